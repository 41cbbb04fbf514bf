"""What `sharebus status` reports: is the bus healthy, and how far behind is everyone.

Broker and registry health (probed, never waited on), the local stack's processes, the
topics, the governance version in force, the dead-letter count, and consumer-group lag
per partition: the workers' group, and every bank's groups (`<bank>.*`). Lag is the end
offset minus the committed one; a partition a group never committed is not counted.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from foundation.probe import kafka_health, registry_health
from foundation.settings import KafkaSettings, StackSettings
from schemas import names

TIMEOUT = 10.0


@dataclass
class PartitionLag:
    topic: str
    partition: int
    committed: int
    end: int

    @property
    def lag(self) -> int:
        return max(self.end - self.committed, 0)


@dataclass
class GroupLag:
    group: str
    state: str = "unknown"
    members: int = 0
    partitions: list[PartitionLag] = field(default_factory=list)

    @property
    def lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    def as_dict(self) -> dict[str, Any]:
        parts = [asdict(p) | {"lag": p.lag} for p in self.partitions]
        return {"group": self.group, "state": self.state, "members": self.members} | {
            "lag": self.lag,
            "partitions": parts,
        }


def collect(kafka: KafkaSettings, stack: StackSettings, worker_group: str) -> dict[str, Any]:
    """The whole report as plain data (what `--json` prints)."""
    from sharebus.stack.local import LocalStack

    broker = kafka_health(kafka)
    registry = registry_health(kafka)
    report: dict[str, Any] = {
        "kafka": {"address": broker.address, "ok": broker.ok, "problem": broker.problem},
        "registry": {"address": registry.address, "ok": registry.ok, "problem": registry.problem},
        "stack": [
            {"name": c.name, "running": c.running, "pid": c.pid, "detail": c.detail}
            for c in LocalStack(stack, report=lambda _: None).status()
        ],
    }
    if not broker.ok:
        return report
    admin = AdminClient(kafka.librdkafka())
    topics = admin.list_topics(timeout=TIMEOUT).topics
    report["topics"] = _topic_counts(topics)
    report["dlq"] = {"records": _size(admin, names.DLQ, topics)}
    report["governance"], banks = _governance(kafka)
    report["workers"] = group_lag(admin, worker_group).as_dict()
    report["banks"] = [
        group_lag(admin, g).as_dict() | {"bank": g.split(".", 1)[0]}
        for g in bank_groups(admin, banks)
    ]
    return report


def _topic_counts(topics: dict[str, Any]) -> dict[str, int]:
    kinds: Counter[str] = Counter()
    for name in topics:
        if name.startswith(names.SOURCE_PREFIX):
            kinds["source"] += 1
        elif name.startswith(names.BANK_PREFIX):
            kinds["bank"] += 1
        elif name.startswith("sharebus."):
            kinds["system"] += 1
        elif not name.startswith("__"):
            kinds["other"] += 1
    return {k: kinds[k] for k in ("source", "bank", "system", "other")}


def _governance(kafka: KafkaSettings) -> tuple[dict[str, Any], list[str]]:
    """The governance in force, summed up, and its banks."""
    from sharebus.governance_log import read_current

    try:
        gov = read_current(kafka, timeout=TIMEOUT)
    except Exception as exc:  # a report, not a failure: say what could not be read
        return {"version": None, "problem": str(exc)}, []
    summary = {"version": gov.version or None} | {
        "banks": len(gov.banks),
        "agencies": len(gov.agencies),
        "entrustments": len(gov.entrustments),
        "agreements": len(gov.agreements),
        "consents": len(gov.consents),
    }
    return summary, sorted(gov.banks)


def _offsets(admin: AdminClient, tps: list[TopicPartition], spec: OffsetSpec) -> dict[Any, int]:
    if not tps:
        return {}
    futures = admin.list_offsets({tp: spec for tp in tps}, request_timeout=TIMEOUT)
    return {(tp.topic, tp.partition): _result(f).offset for tp, f in futures.items()}


def _result(future: Future[Any]) -> Any:
    return future.result(timeout=TIMEOUT)


def _size(admin: AdminClient, topic: str, topics: dict[str, Any]) -> int | None:
    if topic not in topics:
        return None
    tps = [TopicPartition(topic, p) for p in topics[topic].partitions]
    ends = _offsets(admin, tps, OffsetSpec.latest())
    starts = _offsets(admin, tps, OffsetSpec.earliest())
    return sum(ends[k] - starts[k] for k in ends)


def bank_groups(admin: AdminClient, banks: list[str]) -> list[str]:
    """Consumer groups of the banks: named `<bank>.<anything>`."""
    listed = _result(admin.list_consumer_groups(request_timeout=TIMEOUT)).valid
    prefixes = tuple(f"{bank}." for bank in banks)
    return sorted(g.group_id for g in listed if g.group_id.startswith(prefixes))


def group_lag(admin: AdminClient, group: str) -> GroupLag:
    result = GroupLag(group)
    try:
        described = _result(admin.describe_consumer_groups([group])[group])
        result.state = str(described.state.name).lower()
        result.members = len(described.members)
    except KafkaException:
        return result
    request = [ConsumerGroupTopicPartitions(group)]
    committed = _result(admin.list_consumer_group_offsets(request)[group]).topic_partitions
    committed = [tp for tp in committed if tp.offset >= 0]
    ends = _offsets(
        admin, [TopicPartition(tp.topic, tp.partition) for tp in committed], OffsetSpec.latest()
    )
    result.partitions = sorted(
        (
            PartitionLag(tp.topic, tp.partition, tp.offset, ends[(tp.topic, tp.partition)])
            for tp in committed
        ),
        key=lambda p: (p.topic, p.partition),
    )
    return result
