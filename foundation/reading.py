"""Reading a topic from a start to the end it has now: the one loop the commands share.

The end of each partition is its high watermark when reading begins; a partition is done
when the consumer's position reaches it. Positions, not counts or the last offset seen:
compaction leaves gaps in offsets, and transaction markers take offsets that are no
messages. What is written meanwhile is left for the next read.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Message, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from foundation.errors import SharebusError
from foundation.kafka_errors import refusal


class TopicMissingError(SharebusError):
    """The topic to read is not on the cluster."""


def read_to_end(
    conf: dict[str, Any],
    topic: str,
    group: str,
    start: list[TopicPartition] | None = None,
    timeout: float = 120.0,
    principal: str = "",
) -> Iterator[Message]:
    """Every message of `topic` from `start` (each partition's beginning when None) up to
    the end it has now, read_committed. SharebusError when `timeout` seconds pass without
    progress, or a read is refused."""
    consumer = Consumer(
        {
            **conf,
            "group.id": group,
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    try:
        try:
            meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
        except KafkaException as exc:
            raise SharebusError(f"reading {topic} failed: {exc.args[0].str()}") from exc
        if meta is None or meta.error is not None or not meta.partitions:
            raise TopicMissingError(f"no topic {topic} on the cluster")
        if start is None:
            start = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.partitions]
        ends: dict[int, int] = {}
        for tp in start:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, tp.partition), timeout=10
            )
            if high > max(low, tp.offset):
                ends[tp.partition] = high
        consumer.assign([tp for tp in start if tp.partition in ends])
        todo = set(ends)
        deadline = time.monotonic() + timeout
        while todo:
            batch = consumer.consume(1000, 0.5)
            if batch:
                deadline = time.monotonic() + timeout
            elif time.monotonic() > deadline:
                raise SharebusError(
                    f"{topic} could not be read to its end: no progress in {timeout:.0f}s"
                )
            for msg in batch:
                err = msg.error()
                if err is not None:
                    line = refusal(err, principal or "this principal", "read", topic)
                    raise SharebusError(line or f"reading {topic} failed: {err.str()}")
                if (msg.offset() or 0) < ends[msg.partition() or 0]:
                    yield msg
            reached = consumer.position([TopicPartition(topic, p) for p in todo])
            todo -= {tp.partition for tp in reached if tp.offset >= ends[tp.partition]}
    finally:
        consumer.close()


def positions(
    consumer: Consumer, partitions: list[TopicPartition], timeout: float
) -> dict[tuple[str, int], int]:
    """Where `consumer` is on `partitions`: its position, or, on one it has read nothing of
    since it was assigned, its group's committed offset (negative: never committed)."""
    at = {(tp.topic, tp.partition): tp.offset for tp in consumer.position(partitions)}
    unread = [TopicPartition(t, p) for (t, p), offset in at.items() if offset < 0]
    for tp in consumer.committed(unread, timeout) if unread else []:
        at[(tp.topic, tp.partition)] = tp.offset
    return at


def high_watermarks(
    conf: dict[str, Any], partitions: list[TopicPartition], timeout: float = 15.0
) -> list[TopicPartition]:
    """Each partition at its high watermark, asked of each broker in one request: a
    watermark per partition, one after the other, took a minute for a thousand bank
    partitions."""
    if not partitions:
        return []
    admin = AdminClient(conf)
    asked = {TopicPartition(tp.topic, tp.partition): OffsetSpec.latest() for tp in partitions}
    futures = admin.list_offsets(asked, request_timeout=timeout)
    return [TopicPartition(tp.topic, tp.partition, f.result().offset) for tp, f in futures.items()]
