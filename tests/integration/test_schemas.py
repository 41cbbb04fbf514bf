"""The catalog in the real registry: every subject BACKWARD and registered; an incompatible
change refused, with the registry's reason, by `check_all`, by registration and by
`sharebus schemas check`. Test subjects are `pub.test.x-<unique>-value`, deleted after."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from typer.testing import CliRunner

from foundation.settings import KafkaSettings, get_kafka_settings
from schemas.catalog import Catalog, Category, load_catalog
from schemas.errors import RegistryError
from schemas.registry import Problem, check_all, register_all
from schemas.serde import registry_client
from sharebus.cli_admin import schemas_app

BASE = load_catalog().get("tax.payment-record")
NOWHERE = "http://127.0.0.1:1/apis/ccompat/v7"


@pytest.fixture
def client(kafka_settings: KafkaSettings) -> SchemaRegistryClient:
    return registry_client(kafka_settings.registry())


@pytest.fixture
def original(client: SchemaRegistryClient, unique: str) -> Iterator[Category]:
    """A copy of a real category under a subject of this test's own."""
    category = Category(f"test.x-{unique}", "test", f"x-{unique}", BASE.record, BASE.fields)
    yield category
    if category.subject in client.get_subjects():
        client.delete_subject(category.subject)
        client.delete_subject(category.subject, permanent=True)


def with_field(category: Category, new: dict[str, object]) -> Category:
    record = copy.deepcopy(category.record)
    record["fields"].append({"doc": "added by a test", "sensitivity": "public", **new})
    return Category(category.id, category.agency, category.dataset, record, category.fields)


def one(category: Category) -> Catalog:
    return Catalog({category.id: category})


def test_register_all_makes_every_subject_backward_and_check_all_finds_nothing(
    client: SchemaRegistryClient,
) -> None:
    catalog = load_catalog()

    registered = register_all(catalog, client)

    assert [r.subject for r in registered] == [c.subject for c in catalog]
    assert set(client.get_subjects()) >= {c.subject for c in catalog}
    for category in catalog:
        # Read back: the registry keeps the level it was asked for.
        assert client.get_compatibility(category.subject) == "BACKWARD"
    again = register_all(catalog, client)
    assert [r.new for r in again] == [False] * len(catalog)
    assert [r.schema_id for r in again] == [r.schema_id for r in registered]
    assert check_all(catalog, client) == []


def test_an_incompatible_change_is_refused_with_the_registrys_reason(
    client: SchemaRegistryClient, original: Category
) -> None:
    register_all(one(original), client)
    changed = with_field(original, {"name": "new_required", "type": "string"})

    problems = check_all(one(changed), client)

    assert [p.subject for p in problems] == [original.subject]
    reason = problems[0].reason
    assert reason.startswith("incompatible with the latest version: ")
    assert " at /fields/" in reason  # the registry's own words: what differs, and where
    with pytest.raises(RegistryError) as refused:
        register_all(one(changed), client)
    assert str(refused.value).startswith(f"registry refused {original.subject}: ")
    assert "Incompatible" in str(refused.value)
    # Neither the check nor the refused registration added a version.
    assert client.get_versions(original.subject) == [1]


def test_an_optional_field_with_a_default_is_compatible(
    client: SchemaRegistryClient, original: Category
) -> None:
    register_all(one(original), client)
    changed = with_field(
        original, {"name": "new_optional", "type": ["null", "string"], "default": None}
    )

    assert check_all(one(changed), client) == []
    assert [r.new for r in register_all(one(changed), client)] == [True]
    assert client.get_versions(original.subject) == [1, 2]


def test_check_ignores_subjects_not_registered_yet(
    client: SchemaRegistryClient, original: Category
) -> None:
    assert check_all(one(original), client) == []
    assert original.subject not in client.get_subjects()


def test_cli_check_names_each_incompatible_subject_and_exits_1(
    env: None,
    monkeypatch: pytest.MonkeyPatch,
    client: SchemaRegistryClient,
    original: Category,
) -> None:
    runner = CliRunner()
    monkeypatch.setattr("schemas.catalog.load_catalog", lambda: one(original))
    registered = runner.invoke(schemas_app, ["register"])
    assert registered.exit_code == 0, registered.output
    assert f"registered  {original.subject}  id " in registered.stdout
    assert "1 subjects BACKWARD: 1 registered, 0 unchanged" in registered.stdout

    ok = runner.invoke(schemas_app, ["check"])
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.strip() == "all 1 subjects compatible"

    changed = with_field(original, {"name": "new_required", "type": "string"})
    monkeypatch.setattr("schemas.catalog.load_catalog", lambda: one(changed))
    refused = runner.invoke(schemas_app, ["check"])
    assert refused.exit_code == 1
    lines = refused.stderr.splitlines()
    assert len(lines) == 1
    expected = check_all(one(changed), client)
    assert expected == [Problem(original.subject, expected[0].reason)]
    assert lines[0] == f"incompatible {original.subject}: {expected[0].reason}"


def test_unreachable_registry_is_a_one_line_registry_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    nowhere = registry_client({"url": NOWHERE, "max.retries": 0})
    for action in (register_all, check_all):
        with pytest.raises(RegistryError) as caught:
            action(load_catalog(), nowhere)
        assert str(caught.value).startswith(f"schema registry unreachable at {NOWHERE}: ")
        assert "\n" not in str(caught.value)

    monkeypatch.setenv("SHAREBUS_REGISTRY_URL", NOWHERE)
    get_kafka_settings.cache_clear()
    try:
        result = CliRunner().invoke(schemas_app, ["check"])
    finally:
        get_kafka_settings.cache_clear()
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"error: {caught.value}"]


def test_a_subject_first_written_by_the_bus_is_backward(
    client: SchemaRegistryClient, unique: str
) -> None:
    """A publisher or worker writing a new subject sets BACKWARD before registering it."""
    from schemas.serde import AvroSerde

    subject = f"pub.test.first-{unique}-value"
    schema = {"type": "record", "name": "R", "fields": [{"name": "a", "type": "string"}]}
    try:
        AvroSerde(client).encode(subject, schema, {"a": "x"})
        assert client.get_compatibility(subject) == "BACKWARD"
    finally:
        client.delete_subject(subject, permanent=False)
