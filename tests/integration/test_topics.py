"""Topics as code on the real broker: create, grow, reconfigure, prune, and a second apply
that finds nothing to do. Each test's topics carry its unique suffix and are deleted after
it; plans are cut down to them, so a prune never touches anyone else's topics."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType
from typer.testing import CliRunner

from foundation.settings import PROJECT_ROOT, KafkaSettings, get_kafka_settings
from governance.loader import governance_from_dir
from governance.topics import (
    DAY_MS,
    Plan,
    Topics,
    TopicSpec,
    bank_spec,
    desired_topics,
    plan,
    source_spec,
)
from schemas.catalog import load_catalog
from sharebus.cli_admin import topics_app
from tests.integration.conftest import wait_for

GOVERNANCE = PROJECT_ROOT / "examples" / "governance"

View = Callable[[], dict[str, TopicSpec]]


@pytest.fixture
def topics(kafka_settings: KafkaSettings) -> Topics:
    return Topics(kafka_settings)


@pytest.fixture
def mine(topics: Topics, unique: str) -> Iterator[View]:
    """The cluster as `describe` reads it, cut down to this test's topics."""

    def view() -> dict[str, TopicSpec]:
        return {name: spec for name, spec in topics.describe().items() if unique in name}

    yield view
    topics.apply(Plan(extra=tuple(view())), prune=True)


def test_apply_creates_topics_with_their_partitions_and_configs(
    topics: Topics, mine: View, unique: str
) -> None:
    source = source_spec(f"test.orders-{unique}", 2)
    bank = bank_spec(f"b{unique}", f"test.orders-{unique}", 2, 7)
    first = plan([source, bank], mine())
    assert [s.name for s in first.create] == [source.name, bank.name]

    done: list[str] = []
    topics.apply(first, report=done.append)

    assert done == [
        f"created {source.name}: 2 partitions, cleanup.policy=compact,delete retention.ms=-1",
        f"created {bank.name}: 2 partitions, cleanup.policy=delete retention.ms={7 * DAY_MS}",
    ]
    cluster = mine()
    assert cluster[source.name].partitions == 2
    assert cluster[source.name].config["cleanup.policy"] == "compact,delete"
    assert cluster[source.name].config["retention.ms"] == "-1"
    assert cluster[bank.name].partitions == 2
    assert cluster[bank.name].config["cleanup.policy"] == "delete"
    assert cluster[bank.name].config["retention.ms"] == str(7 * DAY_MS)

    again = plan([source, bank], mine())
    assert again.nothing_to_do(prune=True) and again.rows() == []
    topics.apply(again, report=done.append)
    assert len(done) == 2


def test_apply_grows_partitions_and_undoes_config_drift_but_never_shrinks(
    topics: Topics, mine: View, unique: str, kafka_settings: KafkaSettings
) -> None:
    category = f"test.orders-{unique}"
    topics.apply(plan([source_spec(category, 2), bank_spec(f"b{unique}", category, 2, 7)], {}))
    source, bank = source_spec(category, 4), bank_spec(f"b{unique}", category, 4, 14)
    # Someone changes the source topic by hand.
    drift = ConfigEntry("cleanup.policy", "delete", incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ResourceType.TOPIC, source.name, incremental_configs=[drift])
    for future in topics.admin.incremental_alter_configs([resource]).values():
        future.result(timeout=10)
    # Accepted by the controller is not yet shown by the broker: plan once it is.
    wait_for(
        lambda: mine()[source.name].config.get("cleanup.policy") == "delete",
        timeout=30,
        what="the hand-made config change to show",
    )

    grow = plan([source, bank], mine())
    assert sorted(grow.rows()) == [
        ("config", bank.name, "", f"retention.ms: {7 * DAY_MS} -> {14 * DAY_MS}"),
        ("config", source.name, "", "cleanup.policy: delete -> compact,delete"),
        ("partitions", bank.name, "2 -> 4", ""),
        ("partitions", source.name, "2 -> 4", ""),
    ]
    topics.apply(grow)

    cluster = mine()
    assert cluster[source.name].partitions == 4
    assert cluster[source.name].config["cleanup.policy"] == "compact,delete"
    assert cluster[bank.name].partitions == 4
    assert cluster[bank.name].config["retention.ms"] == str(14 * DAY_MS)
    assert plan([source, bank], cluster).nothing_to_do()

    shrink = plan([source_spec(category, 1)], {source.name: cluster[source.name]})
    assert shrink.nothing_to_do()
    assert shrink.problems == (
        f"{source.name} has 4 partitions, 1 declared: Kafka cannot decrease partitions "
        "(declare more, or recreate the topic)",
    )
    topics.apply(shrink)
    assert mine()[source.name].partitions == 4


def test_prune_deletes_only_a_managed_topic_nobody_declares(
    topics: Topics, mine: View, unique: str
) -> None:
    kept = source_spec(f"test.kept-{unique}", 1)
    stray = TopicSpec(f"pub.zz-{unique}.x", 1)
    unmanaged = TopicSpec(f"scratch.{unique}", 1)
    topics.apply(plan([kept, stray, unmanaged], {}))

    result = plan([kept], mine())
    assert result.extra == (stray.name,)
    assert result.rows() == [("extra", stray.name, "", "deleted only with prune")]

    topics.apply(result)
    assert set(mine()) == {kept.name, stray.name, unmanaged.name}

    done: list[str] = []
    topics.apply(result, prune=True, report=done.append)
    assert done == [f"deleted {stray.name}"]
    assert set(mine()) == {kept.name, unmanaged.name}
    assert plan([kept], mine()).nothing_to_do(prune=True)


def test_the_whole_catalog_applied_twice_leaves_nothing_to_do(topics: Topics) -> None:
    catalog = load_catalog()
    desired = desired_topics(catalog, governance_from_dir(GOVERNANCE).agreements.values())

    topics.apply(plan(desired, topics.describe()))

    after = plan(desired, topics.describe())
    assert after.create == () and after.increase == () and after.alter == ()
    assert after.problems == ()
    cluster = topics.describe()
    for category in catalog:
        assert cluster[category.topic].partitions == 3
        assert cluster[category.topic].config["cleanup.policy"] == "compact,delete"
    assert cluster["bank.ccb.tax.payment-record"].config["retention.ms"] == str(90 * DAY_MS)


def test_cli_apply_then_plan(env: None, topics: Topics, unique: str, tmp_path: Path) -> None:
    # A real bank (governance knows only the catalog's banks) and a category that the
    # sample governance never grants it, so that its topic is this test's alone.
    bank = "bank.spdb.stc.rd-grant"
    topics.apply(Plan(extra=(bank,)), prune=True)
    (tmp_path / "agreement.yaml").write_text(
        f"""
kind: agreement
id: test-{unique}
bank: spdb
purpose: inclusive-lending
effective_from: 2026-01-01T00:00:00+08:00
effective_until: 2027-01-01T00:00:00+08:00
grants:
  - category: stc.rd-grant
    fields: [uscc, enterprise_name]
    retention_days: 5
"""
    )
    shutil.copytree(GOVERNANCE / "parties", tmp_path / "parties")
    runner = CliRunner()

    applied = runner.invoke(topics_app, ["apply", "--governance", str(tmp_path)])
    assert applied.exit_code == 0, applied.output
    assert (
        f"created {bank}: 3 partitions, cleanup.policy=delete retention.ms={5 * DAY_MS}"
        in applied.stdout
    )
    assert "applied: " in applied.stdout and "0 deleted" in applied.stdout

    planned = runner.invoke(topics_app, ["plan", "--governance", str(tmp_path)])
    assert planned.exit_code == 0, planned.output
    assert "plan: 0 to create, 0 to grow, 0 to reconfigure;" in planned.stdout
    assert bank not in planned.stdout

    # Under the sample governance, that bank has no agreement: its topic is an extra.
    sample = runner.invoke(topics_app, ["plan", "--governance", str(GOVERNANCE)])
    assert sample.exit_code == 0, sample.output
    extra = [line.split() for line in sample.stdout.splitlines() if bank in line]
    assert extra == [["extra", bank, "deleted", "only", "with", "prune"]]
    assert bank in topics.partitions()
    topics.apply(Plan(extra=(bank,)), prune=True)


def test_cli_says_in_one_line_that_kafka_is_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHAREBUS_BOOTSTRAP", "127.0.0.1:1")
    # Another cluster than the local stack: its credential must be given.
    monkeypatch.setenv("SHAREBUS_SASL_USERNAME", "sharebus-operator")
    monkeypatch.setenv("SHAREBUS_SASL_PASSWORD", "unused")
    get_kafka_settings.cache_clear()
    try:
        result = CliRunner().invoke(topics_app, ["plan", "--governance", str(GOVERNANCE)])
    finally:
        get_kafka_settings.cache_clear()
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: Kafka unreachable at 127.0.0.1:1: ")
