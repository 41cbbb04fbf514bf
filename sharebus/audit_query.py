"""A regulator's question: who received what about an enterprise, under which agreement
and purpose, and what was withheld and why — read from `sharebus.audit`.

Audit records are keyed by the enterprise's USCC, so records of other enterprises are
skipped by key, before decoding. `since` starts each partition at the first record of
that time (the broker's time index), so a query over a recent window reads little.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from foundation.errors import SharebusError, UsageError
from foundation.reading import read_to_end
from foundation.settings import KafkaSettings
from schemas import names
from schemas.serde import AvroSerde, registry_client

UNITS = {"m": "minutes", "h": "hours", "d": "days"}
TIMEOUT = 10.0


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`2026-11-01`, `2026-11-01T08:00:00Z`, or a span back from now: `30m`, `12h`, `7d`."""
    now = now or datetime.now(UTC)
    unit = UNITS.get(text[-1:])
    if unit and text[:-1].isdigit():
        return now - timedelta(**{unit: int(text[:-1])})
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--since '{text}': give a time (2026-11-01, 2026-11-01T08:00:00Z) or a span (7d, 12h)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def query(
    settings: KafkaSettings, uscc: str, bank: str | None = None, since: datetime | None = None
) -> list[dict[str, Any]]:
    """Every audit record about `uscc` (of `bank`, from `since`), oldest first."""
    found = [
        record
        for record in _records(settings, uscc.encode(), since)
        if bank is None or record["bank"] == bank
    ]
    return sorted(found, key=lambda r: (r["decided_at"], r["bank"]))


def _records(
    settings: KafkaSettings, key: bytes, since: datetime | None
) -> Iterator[dict[str, Any]]:
    serde = AvroSerde(registry_client(settings.registry()))
    consumer = Consumer({**settings.librdkafka(), "group.id": "sharebus-audit-query"})
    try:
        start = _start(consumer, since)
    finally:
        consumer.close()
    found = read_to_end(
        settings.librdkafka(),
        names.AUDIT,
        "sharebus-audit-query",
        start,
        timeout=TIMEOUT,
        principal=settings.principal,
    )
    for msg in found:
        if msg.key() == key and msg.value() is not None:
            yield serde.decode(msg.value())[1]


def _start(consumer: Consumer, since: datetime | None) -> list[TopicPartition]:
    meta = consumer.list_topics(names.AUDIT, timeout=TIMEOUT).topics.get(names.AUDIT)
    if meta is None or meta.error is not None or not meta.partitions:
        raise SharebusError(f"no {names.AUDIT} topic: no worker has run on this cluster")
    if since is None:
        return [TopicPartition(names.AUDIT, p, OFFSET_BEGINNING) for p in meta.partitions]
    millis = int(since.timestamp() * 1000)
    wanted = [TopicPartition(names.AUDIT, p, millis) for p in meta.partitions]
    found = consumer.offsets_for_times(wanted, timeout=TIMEOUT)
    # -1: nothing at or after that time in the partition; start at its end.
    return [
        tp
        if tp.offset >= 0
        else TopicPartition(names.AUDIT, tp.partition, _high(consumer, tp.partition))
        for tp in found
    ]


def _high(consumer: Consumer, partition: int) -> int:
    _low, high = consumer.get_watermark_offsets(
        TopicPartition(names.AUDIT, partition), timeout=TIMEOUT
    )
    return int(high)
