"""Topics as code without a broker: the declared topics, and the plan against a cluster."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from foundation.settings import KafkaSettings
from governance.models import Agreement, Grant
from governance.topics import (
    DAY_MS,
    ConfigChange,
    PartitionIncrease,
    TopicError,
    Topics,
    TopicSpec,
    bank_spec,
    desired_topics,
    plan,
    source_spec,
    system_specs,
)
from schemas.catalog import load_catalog

CATALOG = load_catalog()


def agreement(id: str, bank: str, *grants: tuple[str, int]) -> Agreement:
    return Agreement(
        id=id,
        bank=bank,
        purpose="inclusive-lending",
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        effective_until=datetime(2027, 1, 1, tzinfo=UTC),
        grants=[Grant(category=c, fields=["uscc"], retention_days=d) for c, d in grants],
    )


def as_cluster(*specs: TopicSpec) -> dict[str, TopicSpec]:
    return {s.name: s for s in specs}


def test_desired_topics_are_every_source_the_system_topics_and_one_bank_topic_per_grant() -> None:
    agreements = [
        agreement("a1", "ccb", ("tax.payment-record", 90), ("court.judgment", 30)),
        agreement("a2", "ccb", ("tax.payment-record", 180)),
        agreement("a3", "bosc", ("tax.payment-record", 7)),
    ]
    specs = {s.name: s for s in desired_topics(CATALOG, agreements, partitions=6)}
    sources = {c.topic for c in CATALOG}
    systems = {s.name for s in system_specs()}
    banks = {
        "bank.ccb.tax.payment-record",
        "bank.ccb.court.judgment",
        "bank.bosc.tax.payment-record",
    }
    assert set(specs) == sources | systems | banks
    assert specs["pub.tax.payment-record"].partitions == 6
    assert specs["pub.tax.payment-record"].config["cleanup.policy"] == "compact,delete"
    # Two agreements grant ccb the same category: the longer retention wins.
    assert specs["bank.ccb.tax.payment-record"].config["retention.ms"] == str(180 * DAY_MS)
    assert specs["bank.bosc.tax.payment-record"].config["retention.ms"] == str(7 * DAY_MS)
    assert specs["bank.ccb.court.judgment"].partitions == 6


def test_a_grant_of_an_unknown_category_is_an_error() -> None:
    with pytest.raises(TopicError, match=r"agreement a1 grants unknown category 'tax\.nope'"):
        desired_topics(CATALOG, [agreement("a1", "ccb", ("tax.nope", 30))])


def test_missing_topics_are_created() -> None:
    wanted = source_spec("tax.payment-record")
    result = plan([wanted], {})
    assert result.create == (wanted,)
    assert result.rows() == [
        ("create", "pub.tax.payment-record", "3", "cleanup.policy=compact,delete retention.ms=-1")
    ]
    assert not result.nothing_to_do()


def test_a_topic_as_declared_needs_nothing() -> None:
    spec = bank_spec("ccb", "tax.payment-record", 3, 90)
    # The broker reports every managed key, also those we do not declare.
    current = TopicSpec(spec.name, 3, {**spec.config, "retention.bytes": "-1"})
    result = plan([spec], as_cluster(current))
    assert result.nothing_to_do(prune=True)
    assert result.rows() == []
    assert result.problems == ()


def test_more_partitions_are_added() -> None:
    result = plan([source_spec("tax.arrears", 6)], as_cluster(source_spec("tax.arrears", 3)))
    assert result.increase == (PartitionIncrease("pub.tax.arrears", 3, 6),)
    assert result.rows() == [("partitions", "pub.tax.arrears", "3 -> 6", "")]
    assert result.problems == ()


def test_fewer_partitions_are_a_problem_not_a_change() -> None:
    result = plan([source_spec("tax.arrears", 3)], as_cluster(source_spec("tax.arrears", 6)))
    assert result.increase == ()
    assert result.nothing_to_do()
    assert len(result.problems) == 1
    assert "pub.tax.arrears has 6 partitions, 3 declared" in result.problems[0]
    assert "cannot decrease" in result.problems[0]


def test_config_drift_is_changed_back_for_the_keys_we_manage() -> None:
    spec = bank_spec("ccb", "tax.payment-record", 3, 90)
    drifted = TopicSpec(
        spec.name, 3, {"cleanup.policy": "compact", "retention.ms": str(90 * DAY_MS)}
    )
    result = plan([spec], as_cluster(drifted))
    assert result.alter == (ConfigChange(spec.name, "cleanup.policy", "compact", "delete"),)
    assert result.rows() == [("config", spec.name, "", "cleanup.policy: compact -> delete")]


def test_an_unset_managed_key_is_set_and_unmanaged_keys_are_ignored() -> None:
    spec = TopicSpec("pub.tax.arrears", 3, {"retention.bytes": "1000", "segment.ms": "1"})
    result = plan([spec], as_cluster(TopicSpec("pub.tax.arrears", 3, {})))
    assert result.alter == (ConfigChange("pub.tax.arrears", "retention.bytes", None, "1000"),)


def test_cleanup_policy_order_does_not_matter() -> None:
    spec = source_spec("tax.arrears")
    current = TopicSpec(spec.name, 3, {"cleanup.policy": "delete,compact", "retention.ms": "-1"})
    assert plan([spec], as_cluster(current)).nothing_to_do()


def test_prune_candidates_are_only_managed_topics_not_declared() -> None:
    cluster = as_cluster(
        source_spec("tax.arrears"),
        TopicSpec("pub.zz-old.gone", 3),
        TopicSpec("bank.ccb.tax.gone", 3),
        TopicSpec("sharebus.audit", 3),
        TopicSpec("__consumer_offsets", 50),
        TopicSpec("__transaction_state", 50),
        TopicSpec("sharebus.registry.journal", 1),
        TopicSpec("sharebus.registry.snapshots", 1),
        TopicSpec("sharebus-worker-__assignor-__leader", 1),
        TopicSpec("registry-events", 1),
        TopicSpec("publisher.tax", 1),
    )
    result = plan([source_spec("tax.arrears")], cluster)
    assert result.extra == ("bank.ccb.tax.gone", "pub.zz-old.gone", "sharebus.audit")
    assert result.nothing_to_do()
    assert not result.nothing_to_do(prune=True)
    assert ("extra", "pub.zz-old.gone", "", "deleted only with prune") in result.rows()


def test_the_same_topic_declared_twice_differently_is_a_problem() -> None:
    result = plan([source_spec("tax.arrears", 3), source_spec("tax.arrears", 6)], {})
    assert result.problems == ("pub.tax.arrears is declared twice with different settings",)
    assert [s.partitions for s in result.create] == [3]


def test_unreachable_kafka_is_one_line_and_quick() -> None:
    unreachable = KafkaSettings(
        bootstrap="127.0.0.1:1", registry_url="http://127.0.0.1:1", security_protocol="PLAINTEXT"
    )
    topics = Topics(unreachable)
    started = time.monotonic()
    with pytest.raises(TopicError) as caught:
        topics.describe(timeout=2.0)
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert message.startswith("Kafka unreachable at 127.0.0.1:1: ")
    assert "\n" not in message
