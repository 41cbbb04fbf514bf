"""What the workers decided during a demo run, read back from the audit topic.

Only this run's decisions count: the audit is read from where it ended when the run
began, and a decision counts when its chain is the run's worker group (a chain names its
group: `streams.audit_chain`) and its event is one this run published; a backfill's
decisions count by the agreement its detail names. Another worker group running at the
same time (a test session's, an operator's) decides the same events again under its own
chains: those are left out.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from foundation.reading import high_watermarks
from foundation.settings import KafkaSettings
from schemas import names
from schemas.serde import AvroSerde, registry_client

REASONS = (
    "not-entrusted",
    "no-agreement",
    "suspended",
    "terminated",
    "not-in-window",
    "no-consent",
    "filtered",
    "error",
)


def end_offsets(kafka: KafkaSettings, topic: str) -> list[TopicPartition]:
    """Where `topic` ends now, per partition."""
    consumer = Consumer({**kafka.librdkafka(), "group.id": "sharebus-demo-tally"})
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        partitions = [TopicPartition(topic, p) for p in meta.partitions]
        return high_watermarks(kafka.librdkafka(), partitions)
    finally:
        consumer.close()


class AuditTally:
    """Per bank: deliveries, denials by reason, retractions and backfill deliveries."""

    def __init__(self, kafka: KafkaSettings, run_id: str, group: str, banks: list[str]) -> None:
        self.run_id = run_id
        self.group = group
        self.banks = banks
        self.backfill_agreement = ""  # set when the run starts its backfill
        self.delivered: Counter[str] = Counter()
        self.denied: dict[str, Counter[str]] = {b: Counter() for b in banks}
        self.retracted: Counter[str] = Counter()
        self.backfilled: Counter[str] = Counter()
        self.decided: set[str] = set()  # event ids with at least one decision
        self._serde = AvroSerde(registry_client(kafka.registry()))
        self._consumer = Consumer(
            {
                **kafka.librdkafka(),
                "group.id": "sharebus-demo-tally",
                "enable.auto.commit": False,
            }
        )
        self._consumer.assign(end_offsets(kafka, names.AUDIT))

    def close(self) -> None:
        self._consumer.close()

    def read(self, budget: float = 0.5) -> None:
        """Take what the audit has now, for at most about `budget` seconds."""
        deadline = time.monotonic() + budget
        while time.monotonic() < deadline:
            batch = self._consumer.consume(2000, 0.2)
            if not batch:
                return
            for msg in batch:
                if msg.error() is None and msg.value() is not None:
                    self._count(self._serde.decode(msg.value())[1])

    def _count(self, d: dict[str, Any]) -> None:
        bank = d["bank"]
        if bank not in self.denied:
            return
        detail = d.get("detail") or ""
        if self.backfill_agreement and detail.startswith(f"backfill {self.backfill_agreement}."):
            if d["reason"] == "delivered":
                self.backfilled[bank] += 1
            return
        if not str(d.get("chain") or "").startswith(f"{self.group}:"):
            return
        if d["reason"] == "retracted":
            self.retracted[bank] += 1
            return
        if not d["event_id"].startswith(f"{self.run_id}-"):
            return
        self.decided.add(d["event_id"])
        if d["reason"] == "delivered":
            self.delivered[bank] += 1
        else:
            self.denied[bank][d["reason"]] += 1

    def denials(self) -> Counter[str]:
        """Denials of every bank, by reason."""
        total: Counter[str] = Counter()
        for counts in self.denied.values():
            total.update(counts)
        return total
