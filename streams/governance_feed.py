"""Every worker's full view of governance, kept from the compacted governance topics.

Governance is small, so each worker reads all of it: a consumer without a group,
assigned every partition from the beginning, in a thread of its own. After each batch it
swaps in a new immutable `Governance` snapshot, so a decision always reads one
consistent state and a change takes effect within a poll interval, without restarts.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from governance import codec
from governance.models import Agreement, Consent, Entrustment, Governance

log = logging.getLogger("sharebus.governance")


class GovernanceFeed:
    """Reads the governance topics into `self.current` until `stop()`."""

    def __init__(self, kafka_conf: dict[str, Any], poll_interval: float = 0.1) -> None:
        self._conf = {
            **kafka_conf,
            # A group id is required by librdkafka, but nothing is committed: every worker
            # reads governance from the beginning, in full.
            "group.id": "sharebus-governance-reader",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
        self._poll = poll_interval
        self._records: dict[str, dict[str, Agreement | Entrustment | Consent]] = {
            topic: {} for topic in codec.KIND_OF_TOPIC
        }
        self._version = 0
        self.current = Governance()
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="governance-feed", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def wait_ready(self, timeout: float) -> bool:
        return self.ready.wait(timeout)

    def _run(self) -> None:
        consumer = Consumer(self._conf)
        try:
            partitions = self._partitions(consumer)
            consumer.assign(partitions)
            pending = {(tp.topic, tp.partition) for tp in partitions}
            while not self._stop.is_set():
                changed = False
                for msg in consumer.consume(500, self._poll):
                    err = msg.error()
                    if err is not None:
                        if err.code() == KafkaError._PARTITION_EOF:
                            pending.discard((msg.topic(), msg.partition()))
                        else:
                            log.warning("governance read error: %s", err.str())
                        continue
                    changed |= self._apply(msg.topic() or "", msg.key(), msg.value())
                if changed or (not pending and not self.ready.is_set()):
                    self._publish()
                if not pending and not self.ready.is_set():
                    self.ready.set()
                    log.info("governance loaded: version %s", self._version)
        except Exception:
            log.exception("governance feed stopped")
        finally:
            consumer.close()

    def _partitions(self, consumer: Consumer) -> list[TopicPartition]:
        deadline = time.monotonic() + 60
        while True:
            meta = consumer.list_topics(timeout=10)
            found = [
                TopicPartition(topic, p, OFFSET_BEGINNING)
                for topic in codec.KIND_OF_TOPIC
                if topic in meta.topics
                for p in meta.topics[topic].partitions
            ]
            if len({tp.topic for tp in found}) == len(codec.KIND_OF_TOPIC):
                return found
            if time.monotonic() > deadline:
                raise RuntimeError("governance topics missing: run `sharebus topics apply`")
            time.sleep(1)

    def _apply(self, topic: str, key: bytes | None, value: bytes | None) -> bool:
        table = self._records.get(topic)
        if table is None or key is None:
            return False
        name = key.decode()
        if value is None:
            return table.pop(name, None) is not None
        try:
            record, version = codec.decode(value)
        except ValueError as exc:
            # Only `sharebus governance apply` writes here, after validating: say so loudly.
            log.error("unreadable governance record %s/%s ignored: %s", topic, name, exc)
            return False
        table[name] = record
        self._version = max(self._version, version)
        return True

    def _publish(self) -> None:
        records = [r for table in self._records.values() for r in table.values()]
        self.current = Governance.of(records, version=self._version)
        if self.ready.is_set():
            log.info("governance version %s applied", self._version)
