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

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)
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
        assigned = [tp for tp in start if tp.partition in ends]
        limits = {(topic, p): end for p, end in ends.items()}
        yield from _drain(consumer, assigned, limits, timeout, principal, topic)
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
    return _list_offsets(conf, partitions, OffsetSpec.latest(), timeout)


def _list_offsets(
    conf: dict[str, Any], partitions: list[TopicPartition], spec: OffsetSpec, timeout: float
) -> list[TopicPartition]:
    if not partitions:
        return []
    admin = AdminClient(conf)
    found: dict[tuple[str, int], int] = {}
    todo = sorted({(tp.topic, tp.partition) for tp in partitions})
    deadline = time.monotonic() + timeout
    while todo:
        asked = {TopicPartition(t, p): spec for t, p in todo}
        futures = admin.list_offsets(asked, request_timeout=timeout)
        todo = []
        for tp, future in futures.items():
            try:
                found[(tp.topic, tp.partition)] = future.result().offset
            except KafkaException as exc:
                # Just after a topic is made its leader may not answer as one yet
                # (NOT_LEADER_FOR_PARTITION), or this client's metadata may name a leader
                # epoch the broker has not reached yet (UNKNOWN_LEADER_EPOCH: `make bench`
                # on a fresh stack, right after creating 300 topics): ask again for a while.
                err = exc.args[0]
                if time.monotonic() > deadline or not (err.retriable() or err.code() in _SOON):
                    raise
                todo.append((tp.topic, tp.partition))
        if todo:
            time.sleep(0.2)
    return [TopicPartition(t.topic, t.partition, found[(t.topic, t.partition)]) for t in partitions]


_SOON = (
    KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.LEADER_NOT_AVAILABLE,
    KafkaError.UNKNOWN_TOPIC_OR_PART,
    KafkaError.UNKNOWN_LEADER_EPOCH,
    KafkaError.FENCED_LEADER_EPOCH,
)


def read_partitions_to_end(
    conf: dict[str, Any],
    group: str,
    partitions: list[tuple[str, int]],
    timeout: float = 120.0,
    principal: str = "",
) -> Iterator[Message]:
    """`read_to_end` of many partitions of many topics with one consumer, from each one's
    beginning: a consumer per partition costs a connection and a handshake each, a minute
    for a bank's 240 partitions. Partitions of topics not on the cluster hold nothing."""
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
            meta = consumer.list_topics(timeout=10).topics
        except KafkaException as exc:
            raise SharebusError(f"listing topics failed: {exc.args[0].str()}") from exc
        present = [
            TopicPartition(t, p)
            for t, p in sorted(set(partitions))
            if t in meta and meta[t].error is None and p in meta[t].partitions
        ]
        earliest = _list_offsets(conf, present, OffsetSpec.earliest(), 15.0)
        lows = {(tp.topic, tp.partition): tp.offset for tp in earliest}
        ends = {
            (tp.topic, tp.partition): tp.offset
            for tp in high_watermarks(conf, present)
            if tp.offset > lows[(tp.topic, tp.partition)]
        }
        if not ends:
            return
        starts = [TopicPartition(t, p, OFFSET_BEGINNING) for t, p in ends]
        yield from _drain(consumer, starts, ends, timeout, principal, f"{len(ends)} partition(s)")
    finally:
        consumer.close()


def _drain(
    consumer: Consumer,
    starts: list[TopicPartition],
    ends: dict[tuple[str, int], int],
    timeout: float,
    principal: str,
    what: str,
) -> Iterator[Message]:
    """The one reading loop: from `starts` until every partition's position reaches its
    end in `ends`; SharebusError after `timeout` seconds without progress, or a refusal."""
    consumer.assign(starts)
    todo = set(ends)
    deadline = time.monotonic() + timeout
    while todo:
        batch = consumer.consume(1000, 0.5)
        if batch:
            deadline = time.monotonic() + timeout
        elif time.monotonic() > deadline:
            raise SharebusError(
                f"{what} could not be read to its end: no progress in {timeout:.0f}s"
            )
        for msg in batch:
            err = msg.error()
            if err is not None:
                topic = msg.topic() or "?"
                line = refusal(err, principal or "this principal", "read", topic)
                raise SharebusError(line or f"reading {topic} failed: {err.str()}")
            if (msg.offset() or 0) < ends[(msg.topic() or "", msg.partition() or 0)]:
                yield msg
        reached = consumer.position([TopicPartition(t, p) for t, p in todo])
        todo -= {
            (tp.topic, tp.partition)
            for tp in reached
            if tp.offset >= ends[(tp.topic, tp.partition)]
        }
