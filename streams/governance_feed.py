"""Every worker's full view of governance, kept from the compacted governance topics.

After each batch it swaps in a new immutable `Governance` snapshot, so a decision always
reads one consistent state and a change takes effect within a poll interval, without
restarts.
"""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import Message

from governance import codec
from governance.models import Agreement, Consent, Entrustment, Governance
from streams.feed import CompactedFeed

log = logging.getLogger("sharebus.governance")


class GovernanceFeed(CompactedFeed):
    """Reads the governance topics into `self.current` until `stop()`."""

    name = "governance-feed"

    def __init__(self, kafka_conf: dict[str, Any], poll: float = 0.1) -> None:
        super().__init__(kafka_conf, list(codec.KIND_OF_TOPIC), poll)
        self._records: dict[str, dict[str, Agreement | Entrustment | Consent]] = {
            topic: {} for topic in codec.KIND_OF_TOPIC
        }
        self._version = 0
        self.current = Governance()

    def apply(self, msg: Message) -> bool:
        table = self._records.get(msg.topic() or "")
        key = msg.key()
        if table is None or key is None:
            return False
        name = key.decode()
        value = msg.value()
        if value is None:
            return table.pop(name, None) is not None
        try:
            record, version = codec.decode(value)
        except ValueError as exc:
            # Only `sharebus governance apply` writes here, after validating: say so loudly.
            log.error("unreadable governance record %s/%s ignored: %s", msg.topic(), name, exc)
            return False
        table[name] = record
        self._version = max(self._version, version)
        return True

    def after_batch(self, changed: bool) -> None:
        records = [r for table in self._records.values() for r in table.values()]
        self.current = Governance.of(records, version=self._version)
        log.info("governance version %s applied", self._version)
