"""Topics as code: the topics the bus needs, and making the cluster have them."""

from __future__ import annotations

from dataclasses import dataclass, field

from confluent_kafka.admin import AdminClient, NewTopic

from schemas import names
from sharebus.errors import SharebusError
from sharebus.settings import KafkaSettings, get_kafka_settings

DAY_MS = 24 * 3600 * 1000


class TopicError(SharebusError):
    """A topic could not be read or created."""


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def source_spec(category: str, partitions: int = 3) -> TopicSpec:
    # Latest record per enterprise is retained; deletes (tombstones) expire.
    return TopicSpec(
        names.source_topic(category),
        partitions,
        {"cleanup.policy": "compact,delete", "retention.ms": "-1"},
    )


def bank_spec(bank: str, category: str, partitions: int, retention_days: int) -> TopicSpec:
    retention = str(retention_days * DAY_MS)
    return TopicSpec(
        names.bank_topic(bank, category),
        partitions,
        {"cleanup.policy": "delete", "retention.ms": retention},
    )


def system_specs(partitions: int = 3) -> list[TopicSpec]:
    compact = {"cleanup.policy": "compact"}
    return [
        TopicSpec(names.ENTRUSTMENTS, 1, compact),
        TopicSpec(names.AGREEMENTS, 1, compact),
        TopicSpec(names.CONSENTS, partitions, compact),
        TopicSpec(
            names.AUDIT,
            partitions,
            {"cleanup.policy": "delete", "retention.ms": str(3650 * DAY_MS)},
        ),
        TopicSpec(
            names.DLQ, partitions, {"cleanup.policy": "delete", "retention.ms": str(30 * DAY_MS)}
        ),
    ]


class Topics:
    """A thin admin over the cluster's topics."""

    def __init__(self, settings: KafkaSettings | None = None) -> None:
        self.admin = AdminClient((settings or get_kafka_settings()).librdkafka())

    def partitions(self, timeout: float = 10.0) -> dict[str, int]:
        """Every topic on the cluster and its partition count."""
        try:
            meta = self.admin.list_topics(timeout=timeout)
        except Exception as exc:
            raise TopicError(f"Kafka unreachable: {exc}") from exc
        return {name: len(t.partitions) for name, t in meta.topics.items() if not t.error}

    def ensure(self, specs: list[TopicSpec], timeout: float = 30.0) -> list[str]:
        """Create the topics that do not exist; return the names created."""
        existing = self.partitions()
        wanted = [
            NewTopic(s.name, s.partitions, 1, config=dict(s.config))
            for s in specs
            if s.name not in existing
        ]
        if not wanted:
            return []
        created = []
        for name, future in self.admin.create_topics(wanted, operation_timeout=timeout).items():
            try:
                future.result(timeout=timeout)
                created.append(name)
            except Exception as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise TopicError(f"creating topic {name} failed: {exc}") from exc
        return created
