"""The faust worker: reads every source topic, decides per bank, sends, audits.

The agent only loops: it hands each message to `FanOut`, keeps the enterprise profiles
from `market.registration` in a table partitioned like every source topic, makes sure
bank topics exist (same partition count as the source, so per-enterprise order holds end
to end), and sends. Governance comes from `GovernanceFeed`, which every worker reads in
full. Faust flushes the producer before it commits source offsets, so an event is never
marked done before its deliveries and audit records are acknowledged (at least once).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import faust

from schemas import names
from schemas.catalog import load_catalog
from schemas.serde import AvroSerde, registry_client
from sharebus.settings import KafkaSettings, WorkerSettings
from sharebus.topics import Topics, bank_spec
from streams.fanout import REGISTRATION, FanOut, Outgoing, Source, profile_of
from streams.governance_feed import GovernanceFeed
from streams.profile_feed import ProfileFeed

log = logging.getLogger("sharebus.worker")


def create_app(kafka: KafkaSettings, worker: WorkerSettings) -> faust.App:
    app = faust.App(
        worker.app_id,
        broker=f"kafka://{kafka.bootstrap}",
        key_serializer="raw",
        value_serializer="raw",
        datadir=str(worker.data_dir),
        web_enabled=worker.web_port > 0,
        web_port=worker.web_port or 6066,
        web_bind="127.0.0.1",
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
    # worker subscribes to every catalog topic plus what matches the pattern at start (an
    # unknown category there goes to the DLQ).
    subscribed = {c.topic for c in catalog if pattern.fullmatch(c.topic)}
    subscribed |= {t for t in topics.partitions() if pattern.fullmatch(t)}
    source = app.topic(*sorted(subscribed), key_serializer="raw", value_serializer="raw")
    serde = AvroSerde(registry_client(kafka.registry()))
    feed = GovernanceFeed(kafka.librdkafka())
    # Not a faust Table: its changelog recovery hangs on restart here ("No event received
    # for active tp"); profiles are rebuilt from the compacted registration topic instead.
    profiles = ProfileFeed(kafka.librdkafka(), serde)
    fanout = FanOut(catalog, serde, worker.mask_key_bytes())
    bank_topics = BankTopics(topics)
    counters = {"events": 0, "delivered": 0, "denied": 0, "dead_letters": 0}

    @app.task
    async def start_feeds() -> None:
        feed.start()
        profiles.start()

    @app.timer(interval=30.0)
    async def warn_unread_source_topics() -> None:
        # Changing faust's subscription while it fetches crashes its aiokafka driver
        # ("Partition is not assigned"), so a source topic created after start is read
        # from the next start on; say so rather than stay silent.
        loop = asyncio.get_running_loop()
        existing = await loop.run_in_executor(None, topics.partitions)
        unread = sorted(t for t in existing if pattern.fullmatch(t) and t not in subscribed)
        if unread:
            log.warning("source topics not read until workers restart: %s", ", ".join(unread))

    @app.timer(interval=5.0)
    async def recreate_missing_bank_topics() -> None:
        # A bank topic deleted by hand (or by a prune from an older folder) must not stop
        # the worker: sends to it would wait for metadata and hold up every bank.
        try:
            await bank_topics.refresh()
        except Exception as exc:
            log.warning("checking bank topics failed: %s", exc)

    @app.agent(source)
    async def fan_out(stream: Any) -> None:
        loop = asyncio.get_running_loop()
        # Deny by default holds anyway, but deciding before governance is loaded would deny
        # wrongly: wait for it.
        for needed in (feed, profiles):
            while not await loop.run_in_executor(None, needed.wait_ready, 5.0):
                log.warning("waiting for %s ...", needed.name)
        async for event in stream.events():
            msg = event.message
            src = Source(
                msg.topic, msg.partition, msg.offset, msg.key, msg.value, list(msg.headers or [])
            )
            decoded = fanout.decode(src)
            if decoded is None:
                continue
            if isinstance(decoded, Outgoing):
                counters["dead_letters"] += 1
                await send(decoded, msg.topic)
                continue
            ev = decoded.event
            if ev.category == REGISTRATION and msg.key is not None:
                profiles.record(msg.key, msg.offset, profile_of(ev))
            outgoing, decisions = fanout.fan(decoded, src, feed.current, profiles.get(msg.key))
            counters["events"] += 1
            for d in decisions:
                counters["delivered" if d.delivered else "denied"] += 1
            for out in outgoing:
                await send(out, msg.topic)

    async def send(out: Outgoing, source_topic: str) -> None:
        if out.topic.startswith(names.BANK_PREFIX):
            await bank_topics.ensure(out.topic, source_topic, out.retention_days)
        await app.producer.send(out.topic, out.key, out.value, out.partition, None, out.headers)

    @app.page("/status")
    async def status(web: Any, request: Any) -> Any:
        gov = feed.current
        mark = feed.mark
        return web.json(
            {
                "app_id": worker.app_id,
                "governance_ready": feed.ready.is_set(),
                # The version in force here: every record of it read, none of a later one.
                "governance_version": gov.version,
                "governance_applied_at": mark.applied_at.isoformat() if mark else None,
                "banks": gov.active_banks(),
                "agreements": len(gov.agreements),
                "entrustments": len(gov.entrustments),
                "consents": len(gov.consents),
                "profiles_ready": profiles.ready.is_set(),
                "profiles": len(profiles),
                "source_topics": len(source.topics),
                **counters,
            }
        )

    return app


class BankTopics:
    """Creates a bank topic when first needed, with its source topic's partition count,
    and again when it has gone missing."""

    def __init__(self, topics: Topics) -> None:
        self.topics = topics
        self.known: dict[str, int] = {}
        self.needed: dict[str, tuple[str, int]] = {}

    async def ensure(self, name: str, source_topic: str, retention_days: int) -> None:
        self.needed[name] = (source_topic, retention_days)
        if name in self.known:
            return
        # The admin client blocks: keep it off the event loop.
        loop = asyncio.get_running_loop()
        self.known.update(await loop.run_in_executor(None, self.topics.partitions))
        if name in self.known:
            return
        await loop.run_in_executor(None, self._create, name, source_topic, retention_days)

    async def refresh(self) -> None:
        loop = asyncio.get_running_loop()
        self.known = await loop.run_in_executor(None, self.topics.partitions)
        for name, (source_topic, retention_days) in list(self.needed.items()):
            if name not in self.known:
                log.warning("bank topic %s is missing: creating it again", name)
                await loop.run_in_executor(None, self._create, name, source_topic, retention_days)

    def _create(self, name: str, source_topic: str, retention_days: int) -> None:
        match = names.BANK_RE.match(name)
        if match is None:
            raise ValueError(f"not a bank topic: {name}")
        partitions = self.known.get(source_topic) or self.topics.partitions()[source_topic]
        spec = bank_spec(match.group("bank"), match.group("category"), partitions, retention_days)
        self.topics.ensure([spec])
        self.known[name] = partitions
