"""Enterprise profiles read straight from `pub.market.registration`, for people's tools
(`sharebus explain`); the workers keep theirs as a partitioned table."""

from __future__ import annotations

from typing import Any

from confluent_kafka import Consumer, TopicPartition

from governance.decision import Event
from schemas import names
from schemas.serde import AvroSerde, registry_client
from sharebus.settings import KafkaSettings, get_kafka_settings
from streams.fanout import REGISTRATION, profile_of


def read_profiles(
    usccs: set[str], settings: KafkaSettings | None = None
) -> dict[str, dict[str, Any]]:
    """The latest profile of each enterprise in `usccs` that has one."""
    settings = settings or get_kafka_settings()
    topic = names.source_topic(REGISTRATION)
    serde = AvroSerde(registry_client(settings.registry()))
    consumer = Consumer(
        {**settings.librdkafka(), "group.id": "sharebus-explain", "enable.auto.commit": False}
    )
    found: dict[str, dict[str, Any]] = {}
    try:
        meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if meta is None or meta.error:
            return found
        ends = {}
        for p in meta.partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high > low:
                ends[p] = high
        consumer.assign([TopicPartition(topic, p, 0) for p in ends])
        while ends:
            for msg in consumer.consume(1000, 1.0):
                if msg.error():
                    continue
                if (msg.offset() or 0) + 1 >= ends.get(msg.partition() or 0, 0):
                    ends.pop(msg.partition(), None)
                key = (msg.key() or b"").decode()
                if key not in usccs:
                    continue
                if msg.value() is None:
                    found.pop(key, None)
                    continue
                _, env = serde.decode(msg.value())
                profile = profile_of(
                    Event(REGISTRATION, env["op"], key, env["before"], env["after"])
                )
                if profile is None:
                    found.pop(key, None)
                else:
                    found[key] = profile
    finally:
        consumer.close()
    return found
