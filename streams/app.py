"""The faust worker: subscribes to every source topic by pattern and fans records out.

The agent only loops: it hands each message to `FanOut`, makes sure bank topics exist
(same partition count as the source, so per-enterprise order holds end to end), and
sends. Faust flushes the producer before it commits source offsets, so a record is
never marked done before what it produced is acknowledged (at least once).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import faust

from governance.decision import Governance
from governance.loader import load_dir
from schemas import names
from schemas.catalog import load_catalog
from schemas.serde import AvroSerde, registry_client
from sharebus.settings import KafkaSettings, WorkerSettings
from sharebus.topics import Topics, bank_spec
from streams.fanout import FanOut, Source

log = logging.getLogger("sharebus.worker")


def create_app(kafka: KafkaSettings, worker: WorkerSettings) -> faust.App:
    app = faust.App(
        worker.app_id,
        broker=f"kafka://{kafka.bootstrap}",
        key_serializer="raw",
        value_serializer="raw",
        datadir=str(worker.data_dir),
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        # New source topics are found within seconds, not aiokafka's default five minutes.
        consumer_metadata_max_age_ms=5000,
        topic_replication_factor=1,
    )
    catalog = load_catalog()
    topics = Topics(kafka)
    pattern = re.compile(worker.source_pattern)
    # Faust does not subscribe by pattern (its aiokafka driver passes names only), so the
    # worker subscribes to every catalog topic plus what matches the pattern now, and a
    # timer adds matching topics that appear later (an unknown category goes to the DLQ).
    subscribed = {c.topic for c in catalog if pattern.fullmatch(c.topic)}
    subscribed |= {t for t in topics.partitions() if pattern.fullmatch(t)}
    source = app.topic(*sorted(subscribed), key_serializer="raw", value_serializer="raw")
    governance = Governance(tuple(load_dir(worker.governance_dir)))
    fanout = FanOut(catalog, AvroSerde(registry_client(kafka.registry())), governance)
    bank_topics = BankTopics(topics)

    @app.timer(interval=5.0)
    async def discover_source_topics() -> None:
        loop = asyncio.get_running_loop()
        existing = await loop.run_in_executor(None, topics.partitions)
        new = sorted(t for t in existing if pattern.fullmatch(t) and t not in source.topics)
        if new:
            log.warning("subscribing to new source topics: %s", ", ".join(new))
            source.topics = [*source.topics, *new]
            conductor = app.topics
            conductor._resubscribe_sleep_lock_seconds = 1.0  # type: ignore[attr-defined]
            conductor._flag_changes()  # type: ignore[attr-defined]

    @app.agent(source)
    async def fan_out(stream: Any) -> None:
        async for event in stream.events():
            msg = event.message
            src = Source(
                msg.topic, msg.partition, msg.offset, msg.key, msg.value, list(msg.headers or [])
            )
            outgoing, _decisions = fanout.handle(src)
            for out in outgoing:
                if out.topic.startswith(names.BANK_PREFIX):
                    await bank_topics.ensure(out.topic, msg.topic, out.retention_days)
                await app.producer.send(
                    out.topic, out.key, out.value, out.partition, None, out.headers
                )

    return app


class BankTopics:
    """Creates a bank topic when first needed, with its source topic's partition count."""

    def __init__(self, topics: Topics) -> None:
        self.topics = topics
        self.known: dict[str, int] = {}

    async def ensure(self, name: str, source_topic: str, retention_days: int) -> None:
        if name in self.known:
            return
        # The admin client blocks: keep it off the event loop.
        loop = asyncio.get_running_loop()
        self.known.update(await loop.run_in_executor(None, self.topics.partitions))
        if name in self.known:
            return
        match = names.BANK_RE.match(name)
        if match is None:
            raise ValueError(f"not a bank topic: {name}")
        partitions = self.known[source_topic]
        spec = bank_spec(match.group("bank"), match.group("category"), partitions, retention_days)
        await loop.run_in_executor(None, self.topics.ensure, [spec])
        self.known[name] = partitions
