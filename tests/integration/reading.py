"""Reading back what landed on a topic since a point in time, for assertions."""

from __future__ import annotations

import time
from collections.abc import Callable

from confluent_kafka import Consumer, Message, TopicPartition

from sharebus.settings import KafkaSettings


def end_offsets(settings: KafkaSettings, topic: str) -> list[TopicPartition]:
    """The current end of every partition of `topic`: read from here to see what comes next."""
    consumer = Consumer({**settings.librdkafka(), "group.id": "sharebus-test-reader"})
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        ends = []
        for p in meta.partitions:
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            ends.append(TopicPartition(topic, p, high))
        return ends
    finally:
        consumer.close()


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
