"""What a bank can find out by itself: `sharebus grants`, `sharebus docs asyncapi` (validated
against the official AsyncAPI 3.0 JSON Schema), the catalog page of the governance in force,
and bank subjects registered by `topics apply` before anything is delivered."""

from __future__ import annotations

import json
import random
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError
from jsonschema import Draft7Validator
from referencing import Registry
from referencing.jsonschema import DRAFT7

from consumers.grants import grants_of
from foundation.settings import PROJECT_ROOT, KafkaSettings
from governance.bank_schema import bank_schema
from governance.decision import delivered_fields
from governance.loader import governance_from_dir
from schemas.catalog import load_catalog
from sharebus.governance_log import read_current
from tests.integration.conftest import GOVERNANCE, Endpoints, run_cli
from tests.page_dom import parse

SAMPLE = governance_from_dir(GOVERNANCE)
BANKS = sorted({a.bank for a in SAMPLE.agreements.values()})
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3}")


def validator() -> Draft7Validator:
    schema = json.loads((PROJECT_ROOT / "tests/data/asyncapi/3.0.0.json").read_text())
    # The official bundle names each definition by its own $id.
    registry: Registry[Any] = Registry().with_resources(
        (uri, DRAFT7.create_resource(part)) for uri, part in schema["definitions"].items()
    )
    return Draft7Validator(schema, registry=registry)


def asyncapi_of(endpoints: Endpoints, bank: str, tmp_path: Path) -> dict[str, Any]:
    target = tmp_path / f"{bank}.json"
    result = run_cli(
        endpoints, "docs", "asyncapi", "--bank", bank, "--governance", str(GOVERNANCE),
        "--out", str(target),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(target.read_text())
    return doc


@pytest.mark.parametrize("bank", BANKS)
def test_the_asyncapi_document_lists_exactly_the_grants_and_validates(
    endpoints: Endpoints, bank: str, tmp_path: Path
) -> None:
    doc = asyncapi_of(endpoints, bank, tmp_path)
    errors = [f"{e.json_path}: {e.message[:200]}" for e in validator().iter_errors(doc)]
    assert errors == []

    grants = {
        (a.id, g.category): g for a in SAMPLE.agreements_of(bank) for g in a.grants
    }  # fmt: skip
    topics = {f"bank.{bank}.{category}" for _, category in grants}
    assert {c["address"] for c in doc["channels"].values()} == topics
    messages = doc["components"]["messages"]
    changes = {k: m for k, m in messages.items() if k.endswith(".change")}
    assert len(changes) == len(grants)
    for (agreement, category), grant in grants.items():
        message = messages[f"bank.{bank}.{category}.{agreement}.change"]
        envelope = message["payload"]["schema"]
        after = next(f for f in envelope["fields"] if f["name"] == "before")["type"][1]
        assert [f["name"] for f in after["fields"]] == delivered_fields(grant)
        for f in after["fields"]:
            assert CJK.search(f["doc"]) and LATIN.search(f["doc"]), f"{f['name']}: {f['doc']}"
        headers = message["headers"]["properties"]
        assert headers["ce_agreementid"]["const"] == agreement
        assert "sharebus_source" in message["headers"]["required"]
        retraction = messages[f"bank.{bank}.{category}.{agreement}.retraction"]
        assert "sharebus_retraction" in retraction["headers"]["required"]
    for channel in doc["channels"].values():
        assert channel["bindings"]["kafka"]["partitions"] == 3
        assert "tombstone" in channel["messages"]


def test_the_validator_rejects_a_broken_avro_payload(endpoints: Endpoints, tmp_path: Path) -> None:
    doc = asyncapi_of(endpoints, "ccb", tmp_path)
    change = doc["components"]["messages"]["bank.ccb.tax.payment-record.ccb-inclusive-2026.change"]
    change["payload"]["schema"]["fields"][0]["type"] = 42
    assert list(validator().iter_errors(doc)), "the Avro payload must be validated too"


def test_grants_say_topics_fields_masks_and_refuse_unknown_banks(
    endpoints: Endpoints, sample_governance: int
) -> None:
    folder = str(GOVERNANCE)
    result = run_cli(endpoints, "grants", "--bank", "bosc", "--json", "--governance", folder)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    by_topic = {g["topic"]: g for g in body["grants"]}
    registration = by_topic["bank.bosc.market.registration"]
    assert registration["subject"] == "bank.bosc.market.registration-value"
    assert registration["masks"]["legal_representative_id_no"].startswith("partial (first 6")
    assert registration["agreement"] == "bosc-risk-2026"
    assert registration["purpose"] == "risk-monitoring"
    assert registration["retention_days"] == 365
    assert by_topic["bank.bosc.court.bankruptcy"]["entrusted"] is False
    assert by_topic["bank.bosc.tax.payment-record"]["status"] == "suspended"
    spdb = run_cli(endpoints, "grants", "--bank", "spdb")  # the governance in force
    assert spdb.returncode == 0, spdb.stderr
    assert "consent   required" in spdb.stdout
    assert "bank.spdb.court.judgment" in spdb.stdout
    unknown = run_cli(endpoints, "grants", "--bank", "nosuch")
    assert unknown.returncode == 2
    assert "unknown bank 'nosuch': one of " in unknown.stderr


def test_the_catalog_page_shows_the_governance_in_force(
    endpoints: Endpoints, kafka_settings: KafkaSettings, sample_governance: int, tmp_path: Path
) -> None:
    result = run_cli(endpoints, "docs", "catalog", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    gov = read_current(kafka_settings)
    page = parse((tmp_path / "index.html").read_text("utf-8"))
    assert f"in force, version {gov.version} (applied " in page.find("p", "source").text()
    for bank in gov.banks:
        cells = [c.text() for c in page.by_id(f"bank-{bank}").find_all("td")]
        assert cells[2] == str(len(grants_of(gov, bank)))
    registration = page.find("details", "cat", id="market.registration")
    assert "bosc-risk-2026" in registration.find("ul", "grants").text()


def test_topics_apply_registers_bank_subjects_before_any_delivery(
    endpoints: Endpoints, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    """A grant no worker has delivered under: its schema is in the registry after apply."""
    folder = tmp_path / "governance"
    shutil.copytree(GOVERNANCE, folder)
    path = folder / "agreements" / "ccb-inclusive-loans.yaml"
    agreement = yaml.safe_load(path.read_text())
    grant = agreement["grants"][0]
    # The granted fields in an order of this test alone (one of 5040): a bank schema that
    # nobody can have registered before.
    grant["fields"] = random.Random(uuid.uuid4().hex).sample(grant["fields"], 7)
    agreement["version"] += 1
    path.write_text(yaml.safe_dump(agreement, allow_unicode=True))
    gov = governance_from_dir(folder)
    narrowed = gov.agreements["ccb-inclusive-2026"].grant_for("tax.payment-record")
    assert narrowed is not None
    schema = bank_schema(load_catalog(), "ccb", narrowed)
    client = SchemaRegistryClient(kafka_settings.registry())
    subject = "bank.ccb.tax.payment-record-value"

    registered = Schema(json.dumps(schema, sort_keys=True, ensure_ascii=False), "AVRO")
    with pytest.raises(SchemaRegistryError):
        client.lookup_schema(subject, registered)

    result = run_cli(endpoints, "topics", "apply", "--governance", str(folder))
    assert result.returncode == 0, result.stderr
    assert re.search(rf"^registered +{re.escape(subject)} +id \d+$", result.stdout, re.M)
    try:
        found = client.lookup_schema(subject, registered)
    except SchemaRegistryError as exc:
        pytest.fail(f"{subject} does not hold the schema of the grant: {exc}")
    assert found.schema_id is not None
    assert client.get_compatibility(subject) == "BACKWARD"
