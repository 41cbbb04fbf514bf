"""Reading back what landed on a topic since a point in time, for assertions."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from foundation.settings import KafkaSettings
from schemas.serde import AvroSerde, registry_client


def end_offsets(settings: KafkaSettings, topic: str) -> list[TopicPartition]:
    """The current end of every partition of `topic`: read from here to see what comes next."""
    consumer = Consumer({**settings.librdkafka(), "group.id": "sharebus-test-reader"})
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        if meta.error is not None or not meta.partitions:
            raise AssertionError(f"topic {topic} does not exist: nothing could be read from it")
        return [TopicPartition(topic, p, _high(consumer, topic, p)) for p in meta.partitions]
    finally:
        consumer.close()


def ends_of(settings: KafkaSettings, topics: list[str]) -> list[TopicPartition]:
    """`end_offsets` of many topics with one client: 300 categories, one connection."""
    consumer = Consumer({**settings.librdkafka(), "group.id": "sharebus-test-reader"})
    try:
        meta = consumer.list_topics(timeout=10).topics
        out = []
        for topic in topics:
            if topic not in meta or not meta[topic].partitions:
                raise AssertionError(f"topic {topic} does not exist: nothing could be read from it")
            partitions = meta[topic].partitions
            out += [TopicPartition(topic, p, _high(consumer, topic, p)) for p in partitions]
        return out
    finally:
        consumer.close()


def _high(consumer: Consumer, topic: str, partition: int) -> int:
    # Just after a topic is created the metadata may name a leader that does not yet
    # answer as one (NOT_LEADER_FOR_PARTITION): ask again for a few seconds.
    deadline = time.monotonic() + 15
    while True:
        try:
            return int(
                consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)[1]
            )
        except KafkaException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def read_since(
    settings: KafkaSettings,
    start: list[TopicPartition],
    done: Callable[[list[Message]], bool],
    timeout: float = 60.0,
) -> list[Message]:
    """Messages from `start` on, until `done(messages)` or `timeout`."""
    consumer = Consumer(
        {**settings.librdkafka(), "group.id": "sharebus-test-reader", "enable.auto.commit": False}
    )
    consumer.assign(start)
    messages: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not done(messages):
            msg = consumer.poll(0.3)
            if msg is not None and not msg.error():
                messages.append(msg)
        return messages
    finally:
        consumer.close()


def header(msg: Message, name: str) -> str | None:
    for key, value in msg.headers() or []:
        if key == name:
            return value.decode() if isinstance(value, bytes) else value
    return None


def decoded(settings: KafkaSettings, messages: list[Message]) -> list[dict[str, Any]]:
    """Values of `messages`, decoded through the registry (tombstones skipped)."""
    serde = _serde(tuple(sorted(settings.registry().items())))
    return [serde.decode(m.value())[1] for m in messages if m.value() is not None]


@functools.lru_cache(maxsize=4)
def _serde(conf: tuple[tuple[str, str], ...]) -> AvroSerde:
    # One client per registry: a client per call spends its time making TLS contexts.
    return AvroSerde(registry_client(dict(conf)))


def audit_until(
    settings: KafkaSettings,
    start: list[TopicPartition],
    event_ids: set[str],
    banks: int = 4,
    timeout: float = 90.0,
    group: str | None = None,
) -> list[dict[str, Any]]:
    """Audit records from `start` until every event in `event_ids` has `banks` decisions;
    with `group`, only the decisions of that worker group (other workers may run)."""
    serde = AvroSerde(registry_client(settings.registry()))
    ours: list[dict[str, Any]] = []
    read = 0

    def done(messages: list[Message]) -> bool:
        nonlocal read
        for msg in messages[read:]:
            audit = serde.decode(msg.value())[1] if msg.value() is not None else {}
            mine = group is None or str(audit.get("chain", "")).startswith(f"{group}:")
            if audit.get("event_id") in event_ids and mine:
                ours.append(audit)
        read = len(messages)
        return len(ours) >= banks * len(event_ids)

    read_since(settings, start, done, timeout)
    return ours


def read_to_end(settings: KafkaSettings, start: list[TopicPartition]) -> list[Message]:
    """Everything from `start` up to the end of each partition as it is now.

    Read until every partition says it is at its end: counting offsets would not do, since
    transactional topics hold commit markers that take offsets but are no messages."""
    if not start:
        return []
    consumer = Consumer(
        {
            **settings.librdkafka(),
            "group.id": "sharebus-test-reader",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    consumer.assign(start)
    pending = {(tp.topic, tp.partition) for tp in start}
    messages: list[Message] = []
    deadline = time.monotonic() + 60
    try:
        while pending and time.monotonic() < deadline:
            msg = consumer.poll(0.3)
            if msg is None:
                continue
            err = msg.error()
            if err is None:
                messages.append(msg)
            elif err.code() == KafkaError._PARTITION_EOF:
                pending.discard((msg.topic(), msg.partition() or 0))
        return messages
    finally:
        consumer.close()


def group_at_end(settings: KafkaSettings, group: str) -> None:
    """Start a new consumer group at the end of every source topic: a worker of it reads
    only what comes next."""
    from governance.topics import Topics
    from schemas import names

    sources = [t for t in Topics(settings).partitions() if t.startswith(names.SOURCE_PREFIX)]
    offsets = ends_of(settings, sources)
    consumer = Consumer({**settings.librdkafka(), "group.id": group})
    try:
        consumer.commit(offsets=offsets, asynchronous=False)
    finally:
        consumer.close()
