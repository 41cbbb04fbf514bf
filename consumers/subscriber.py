"""The subscriber SDK: a bank reads its own topics (`bank.<bank>.<category>`).

    with Subscriber(bank="ccb", group="ccb.loans") as sub:
        for event in sub.events(timeout=10):
            ...

Values are decoded through the registry (Confluent framing); tombstones come through
with `value=None`. Offsets are committed after the caller has taken the event.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message

from schemas import names
from schemas.serde import AvroSerde, registry_client
from sharebus import headers as h
from sharebus.errors import SharebusError
from sharebus.kafka_errors import refusal
from sharebus.settings import KafkaSettings, get_kafka_settings


class SubscribeError(SharebusError):
    """The bank's topics could not be read."""


@dataclass(frozen=True)
class BankEvent:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: dict[str, Any] | None
    headers: dict[str, str]

    @property
    def category(self) -> str:
        match = names.BANK_RE.match(self.topic)
        return match.group("category") if match else ""


class Subscriber:
    """Reads one bank's topics, all categories or the ones named."""

    def __init__(
        self,
        bank: str,
        *,
        group: str | None = None,
        categories: list[str] | None = None,
        from_beginning: bool = True,
        settings: KafkaSettings | None = None,
    ) -> None:
        settings = settings or get_kafka_settings()
        self.bank = bank
        group = group or f"{bank}.default"
        if not group.startswith(f"{bank}."):
            raise SubscribeError(f"a consumer group of bank '{bank}' starts with '{bank}.'")
        self.principal = settings.principal
        self.group = group
        self.serde = AvroSerde(registry_client(settings.registry()))
        self._consumer = Consumer(
            {
                **settings.librdkafka(),
                "group.id": group,
                "auto.offset.reset": "earliest" if from_beginning else "latest",
                "enable.auto.commit": True,
                "enable.auto.offset.store": False,
                "topic.metadata.refresh.interval.ms": 5000,
            }
        )
        if categories:
            topics = [names.bank_topic(bank, c) for c in categories]
        else:
            topics = [f"^{re.escape(names.BANK_PREFIX + bank)}\\..*"]
        self._consumer.subscribe(topics)

    def __enter__(self) -> Subscriber:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.close()

    def close(self) -> None:
        self._consumer.close()

    def events(
        self, timeout: float | None = None, idle: float | None = None
    ) -> Iterator[BankEvent]:
        """Yield events until `timeout` seconds pass, or `idle` seconds bring nothing."""
        deadline = None if timeout is None else time.monotonic() + timeout
        last = time.monotonic()
        while deadline is None or time.monotonic() < deadline:
            msg = self._consumer.poll(0.5)
            if msg is None:
                if idle is not None and time.monotonic() - last > idle:
                    return
                continue
            err = msg.error()
            if err is not None:
                if err.code() in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
                    continue
                if err.code() == KafkaError.GROUP_AUTHORIZATION_FAILED:
                    refused = refusal(err, self.principal, "join", self.group)
                else:
                    refused = refusal(err, self.principal, "read", msg.topic() or "")
                raise SubscribeError(refused or f"reading bank topics failed: {err.str()}")
            last = time.monotonic()
            yield self._decode(msg)
            self._consumer.store_offsets(msg)

    def _decode(self, msg: Message) -> BankEvent:
        raw = msg.value()
        value = None if raw is None else self.serde.decode(raw)[1]
        key = msg.key()
        return BankEvent(
            topic=msg.topic() or "",
            partition=msg.partition() or 0,
            offset=msg.offset() or 0,
            key=key.decode() if key is not None else None,
            value=value,
            headers=h.as_dict(msg.headers()),
        )
