"""The fan-out loop: source topics in, bank topics, audit and dead letters out.

It runs on librdkafka's clients (confluent-kafka) in a thread of its own, inside the
faust app that serves the worker's web pages. Faust's own consumer could not subscribe
by pattern, crashed when its subscription changed, acknowledged events whose processing
had raised, and spent most of its time in its own machinery; here:

- the group subscribes to the pattern (`^pub\\..*`): a new source topic is read within
  seconds, without a restart;
- events are processed in batches, one Kafka transaction each: the batch's outputs (bank
  records, audit records, dead letters) and its source offsets commit together or not
  at all, so a crash replays a batch without its first outputs ever being visible to
  read_committed readers (exactly once for them; a read_uncommitted reader may see the
  aborted copies, which carry the same `sharebus_source` and can be dropped by it);
- an event that cannot be processed becomes a dead letter with the reason, never
  nothing; a registry or broker outage is waited out (the batch is taken again from the
  first unfinished event), never turned into a dead letter or a denial;
- a dead worker's partitions move to the others within the session timeout (seconds).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from foundation.reading import positions
from foundation.settings import KafkaSettings, WorkerSettings
from governance.models import ConsentEvent, Status
from governance.topics import Topics, TopicSpec, bank_spec
from schemas import names
from schemas.errors import RegistryUnavailable
from streams.audit_chain import GENESIS, chain_of, seal
from streams.fanout import REGISTRATION, FanOut, Outgoing, Source, profile_of
from streams.feed import CompactedFeed
from streams.governance_feed import GovernanceFeed
from streams.metrics import BatchLatency, ConsumerLag
from streams.profile_feed import ProfileFeed
from streams.retraction import (
    Revocation,
    agreement_retractions,
    ended_retracting,
    holdings_of,
    retractions,
)

log = logging.getLogger("sharebus.worker")

BATCH = 1000
# How the loop produces its outputs (and what a benchmark's baseline loop should use).
OUTPUT_PRODUCER: dict[str, Any] = {
    "enable.idempotence": True,
    "acks": "all",
    "compression.type": "lz4",
    "linger.ms": 5,
    "batch.num.messages": 10000,
    # murmur2 so that Java, aiokafka and librdkafka agree on partitions.
    "partitioner": "murmur2_random",
}
FETCH_MIN_BYTES = 65536
FETCH_WAIT_MAX_MS = 50
BACKOFF_MAX = 30.0
SAY_EVERY = 30.0  # an ongoing outage is said once per this many seconds, not per message
# How often agreements are checked for having passed their end, between governance changes.
ENDED_EVERY = 30.0


class Outage(Exception):
    """Something the worker waits out: the registry, the broker, a feed not ready."""


class Pipeline:
    """Consume, decide, produce, commit; `start()` it once, `stop()` it from anywhere."""

    def __init__(
        self,
        kafka: KafkaSettings,
        worker: WorkerSettings,
        fanout: FanOut,
        governance: GovernanceFeed,
        profiles: ProfileFeed,
    ) -> None:
        self.kafka = kafka
        self.worker = worker
        self.fanout = fanout
        self.governance = governance
        self.profiles = profiles
        self.topics = Topics(kafka)
        self.counters: Counter[str] = Counter()
        self.decisions: Counter[tuple[str, str]] = Counter()  # by (bank, reason)
        # Read by the metrics and the status page (streams.metrics), from their thread.
        self.events_by_topic: Counter[str] = Counter()
        self.latency = BatchLatency()
        self.lag = ConsumerLag()
        self.state = "starting"
        self.problem = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fan-out", daemon=True)
        self._bank_topics: dict[str, int] = {}
        self._needed: dict[str, tuple[str, int]] = {}
        self._checked_topics = 0.0
        self._said: dict[str, float] = {}
        self._heads: dict[str, str] = {}  # audit chain heads, by source partition
        self._consumer: Consumer | None = None
        # (agreement, version, bank topic, partition) whose keys were retracted here; a
        # partition that moves is swept again (what the bank holds is read, not kept).
        self._swept: set[tuple[str, int, str, int]] = set()
        self._ended_checked = (-1, 0.0)  # governance version, when
        # Revocations from before this worker started, looked at once per source partition it
        # is given: after a rebalance only the partitions new to it (each look reads the
        # bank partitions concerned to their end: 0.6 s a time, at every rebalance).
        self._earlier_checked = False
        self._earlier_swept: set[tuple[str, int]] = set()
        self._in_transaction = False
        self._prepared = -1  # the governance version whose topics and schemas are ready
        fanout.sealer = self._seal

    # ---- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        """Start the feeds (governance, profiles) and the loop, which waits for them."""
        self.governance.start()
        self.profiles.start()
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @property
    def healthy(self) -> bool:
        return self.state == "running"

    def _run(self) -> None:
        self._wait_ready(self.governance, self.profiles)
        while not self._stop.is_set() and not self._registry_answers():
            self._say("registry", f"waiting for the schema registry: {self.problem}")
            self._stop.wait(2.0)
        if self._stop.is_set():
            self.state = "stopped"
            return
        consumer = Consumer(self._consumer_conf())
        self._consumer = consumer
        consumer.subscribe(
            [f"^{self.worker.source_pattern}"],
            on_assign=self._moved,
            on_revoke=self._moved,
            on_lost=self._moved,
        )
        self.fanout.audit_partitions = self.topics.partitions().get(names.AUDIT)
        producer = self._producer()
        self.state = "running"
        backoff = 1.0
        try:
            while not self._stop.is_set():
                self._refresh_bank_topics()
                self.lag.measure(consumer)
                try:
                    self._prepare()
                    self._retract(consumer, producer)
                    self._retract_ended(consumer, producer)
                    self._retract_earlier(consumer, producer)
                    batch = _take(consumer)
                    if not batch:
                        continue
                    self._batch(consumer, producer, batch)
                    backoff = 1.0
                except Exception as exc:
                    # Whatever it was, nothing of the batch is visible (its transaction
                    # is aborted) and nothing is committed: read it again, after a pause.
                    self.counters["failed_batches"] += 1
                    self._say("batch", f"a batch failed and is read again: {_one_line(exc)}")
                    log.debug("batch failure", exc_info=True)
                    producer = self._recover(consumer, producer)
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX)
        finally:
            self.state = "stopping"
            if self._exactly_once and self._in_transaction:
                with contextlib.suppress(KafkaException):
                    producer.abort_transaction(1)
            consumer.close()
            self.state = "stopped"

    def _consumer_conf(self) -> dict[str, Any]:
        return {
            **self.kafka.librdkafka(),
            "group.id": self.worker.app_id,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            # A dead worker's partitions move within seconds, and the survivors keep theirs.
            "session.timeout.ms": self.worker.session_timeout_ms,
            "heartbeat.interval.ms": max(self.worker.session_timeout_ms // 3, 500),
            "partition.assignment.strategy": "cooperative-sticky",
            # New source topics matching the pattern are found within seconds.
            "topic.metadata.refresh.interval.ms": 5000,
            # librdkafka sends every assigned partition in each fetch (it has no incremental
            # fetch sessions): at 900 source partitions, answering a fetch as soon as one
            # byte was there made hundreds of fetches a second under paced input, and
            # their cost (here and on the broker) was most of the worker's CPU per event.
            # Waiting up to 50 ms for 64 KB: at 500 events/s, CPU per event 1.1 -> 0.8 ms
            # and latency p50 300 -> 200 ms (bigger batches, fewer commits); a backlog is
            # fetched as before.
            "fetch.min.bytes": FETCH_MIN_BYTES,
            "fetch.wait.max.ms": FETCH_WAIT_MAX_MS,
            "error_cb": self._client_error,
        }

    @property
    def _exactly_once(self) -> bool:
        return self.worker.guarantee == "exactly_once"

    def _producer(self) -> Producer:
        transactional: dict[str, Any] = {}
        if self._exactly_once:
            transactional = {
                # One transaction per batch: its outputs and its source offsets commit
                # together or not at all. Unique per process; a zombie is fenced by the
                # consumer group's generation when it tries to commit offsets.
                "transactional.id": f"{self.worker.app_id}-{uuid.uuid4().hex[:12]}",
                # A killed worker's open transaction blocks read_committed readers of its
                # partitions until it times out: keep that short.
                "transaction.timeout.ms": 10000,
            }
        producer = Producer(
            {
                **self.kafka.librdkafka(),
                **transactional,
                **OUTPUT_PRODUCER,
                "error_cb": self._client_error,
            }
        )
        while self._exactly_once:
            try:
                producer.init_transactions(10)
                return producer
            except KafkaException as exc:
                if self._stop.is_set():
                    raise
                self._say("init", f"waiting for Kafka's transaction coordinator: {exc}")
        return producer

    # ---- one batch -----------------------------------------------------------------

    def _batch(self, consumer: Consumer, producer: Producer, batch: list[Message]) -> None:
        """Decide the batch's events and produce their outputs as they are decided (the
        client sends them while the next events are decided), then commit them with the
        source offsets, in one transaction."""
        gov = self.governance.current
        started = time.monotonic()
        done: dict[tuple[str, int], int] = {}
        self._heads_of(consumer, batch)
        self._begin(producer)
        for index, msg in enumerate(batch):
            if self._stop.is_set():
                raise Outage("stopping: the batch is not committed")
            err = msg.error()
            if err is not None:
                self._say("read", f"reading source topics: {err.str()}")
                continue
            try:
                outgoing = self._event(msg, gov)
            except Outage as exc:
                # Commit what is done; take the rest again once the outage is over.
                self._commit(consumer, producer, done)
                self._rewind(consumer, batch[index:])
                self._wait_out(str(exc))
                return
            for out in outgoing:
                self._produce(producer, out)
            done[(msg.topic() or "", msg.partition() or 0)] = (msg.offset() or 0) + 1
        producer.poll(0)  # the client's error callbacks
        self._commit(consumer, producer, done)
        self.latency.observe(time.monotonic() - started, len(batch))

    def _event(self, msg: Message, gov: Any) -> list[Outgoing]:
        if not (self.governance.ready.is_set() and self.profiles.ready.is_set()):
            raise Outage("governance or enterprise profiles are being read again")
        src = Source(
            msg.topic() or "",
            msg.partition() or 0,
            msg.offset() or 0,
            msg.key(),
            msg.value(),
            message_headers(msg),
        )
        chain = chain_of(self.worker.app_id, src.topic, src.partition)
        head = self._heads.get(chain)
        try:
            decoded = self.fanout.decode(src)
            if decoded is None:
                return []
            if isinstance(decoded, Outgoing):
                self.counters["dead_letters"] += 1
                return [decoded]
            event = decoded.event
            if event.category == REGISTRATION and src.key is not None:
                self.profiles.record(src.key, src.offset, profile_of(event))
            outgoing, decisions = self.fanout.fan(decoded, src, gov, self.profiles.get(src.key))
            for out in outgoing:
                if out.topic.startswith(names.BANK_PREFIX):
                    self._ensure_bank_topic(out.topic, src.topic, out.retention_days)
        except RegistryUnavailable as exc:
            self._restore(chain, head)  # its audit records are not sent: nor chained
            raise Outage(str(exc)) from exc
        except Exception as exc:
            # Whatever went wrong, the event ends as a dead letter with the reason: never
            # as nothing, and never half-delivered (nothing of it was produced yet).
            self._restore(chain, head)
            log.exception("event %s could not be processed", src.position)
            self.counters["errors"] += 1
            self.counters["dead_letters"] += 1
            return [self.fanout.dead_letter(src, f"processing failed: {_one_line(exc)}")]
        self.counters["events"] += 1
        self.events_by_topic[src.topic] += 1
        for d in decisions:
            self.counters["delivered" if d.delivered else "denied"] += 1
            self.decisions[(d.bank, d.reason.value)] += 1
        return outgoing

    def _produce(self, producer: Producer, out: Outgoing) -> None:
        # No poll per record: there is no delivery callback to serve, the transaction's
        # commit (or the flush) waits for every record, and a full queue is polled below.
        for _ in range(600):
            try:
                producer.produce(
                    out.topic,
                    value=out.value,
                    key=out.key,
                    partition=-1 if out.partition is None else out.partition,
                    headers=out.headers,  # type: ignore[arg-type]
                )
                return
            except BufferError:
                producer.poll(0.1)  # the local queue is full: let deliveries drain it
            except KafkaException as exc:
                code = exc.args[0].code()
                if code not in (KafkaError._UNKNOWN_TOPIC, KafkaError._UNKNOWN_PARTITION):
                    raise
                # Deleted by hand since: create it again, then wait for its metadata.
                self._bank_topics.pop(out.topic, None)
                self._refresh_bank_topics(force=True)
                producer.poll(0.1)
        raise Outage(f"cannot produce to {out.topic}")

    def _commit(
        self, consumer: Consumer, producer: Producer, done: dict[tuple[str, int], int]
    ) -> None:
        """Commit the batch's transaction: its outputs and its source offsets, together.

        At least once (the comparison mode): wait for every output, then commit offsets."""
        if not self._exactly_once:
            while producer.flush(1.0):
                if self._stop.is_set():
                    raise Outage("stopping before the outputs were acknowledged")
                self._say("broker", f"waiting for Kafka to acknowledge {len(producer)} records")
            if done:
                consumer.commit(offsets=self._offsets(done), asynchronous=False)
            return
        if done:
            producer.send_offsets_to_transaction(
                self._offsets(done), consumer.consumer_group_metadata(), 30
            )
        while True:
            try:
                producer.commit_transaction(10)
                self._in_transaction = False
                return
            except KafkaException as exc:
                err = exc.args[0]
                if not err.retriable() or self._stop.is_set():
                    raise
                self._say("commit", f"waiting for Kafka to commit a batch: {err.str()}")

    def _offsets(self, done: dict[tuple[str, int], int]) -> list[TopicPartition]:
        # Each source offset carries its audit chain's head: the next owner goes on from it.
        return [
            TopicPartition(t, p, o, self._heads.get(chain_of(self.worker.app_id, t, p), GENESIS))
            for (t, p), o in done.items()
        ]

    def _seal(self, record: dict[str, Any], src: Source) -> None:
        chain = chain_of(self.worker.app_id, src.topic, src.partition)
        self._heads[chain] = seal(record, chain, self._head(chain, src.topic, src.partition))

    def _head(self, chain: str, topic: str, partition: int) -> str:
        head = self._heads.get(chain)
        if head is None:
            assert self._consumer is not None
            (committed,) = self._consumer.committed([TopicPartition(topic, partition)], 30)
            head = self._heads[chain] = committed.metadata or GENESIS
        return head

    def _heads_of(self, consumer: Consumer, batch: list[Message]) -> None:
        """The chain heads of the batch's partitions that have none yet, in one request:
        one by one, a worker's first events on 900 source partitions each waited a round
        trip. A failure here fails the batch (read again), never an event."""
        group = self.worker.app_id
        seen = {(msg.topic() or "", msg.partition() or 0) for msg in batch if msg.error() is None}
        missing = {(t, p) for t, p in seen if chain_of(group, t, p) not in self._heads}
        if not missing:
            return
        asked = [TopicPartition(t, p) for t, p in sorted(missing)]
        for tp in consumer.committed(asked, 30):
            self._heads[chain_of(group, tp.topic, tp.partition)] = tp.metadata or GENESIS

    def _restore(self, chain: str, head: str | None) -> None:
        if head is None:
            self._heads.pop(chain, None)
        else:
            self._heads[chain] = head

    def _moved(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # A partition that moves may come back after another worker extended its chain.
        for tp in partitions:
            self._heads.pop(chain_of(self.worker.app_id, tp.topic, tp.partition), None)
        # ... and holds keys of ended agreements this worker has not looked at: look again.
        self._swept.clear()
        self._ended_checked = (-1, 0.0)
        self._earlier_checked = False

    def _recover(self, consumer: Consumer, producer: Producer) -> Producer:
        """After a failed batch: abort its transaction and go back to the committed offsets."""
        try:
            if self._exactly_once and self._in_transaction:
                producer.abort_transaction(10)
                self._in_transaction = False
        except KafkaException as exc:
            log.warning("a new transactional producer replaces one that failed: %s", exc)
            producer = self._producer()
        self._heads.clear()  # what was aborted is not in the chains: read them again
        self._rewind(consumer, [], to_committed=True)
        return producer

    def _begin(self, producer: Producer) -> None:
        if self._exactly_once:
            producer.begin_transaction()
            self._in_transaction = True

    def _rewind(self, consumer: Consumer, rest: list[Message], to_committed: bool = False) -> None:
        """Seek each partition back to its first unfinished event (or its committed offset)."""
        first: dict[tuple[str, int], int] = {}
        for msg in rest:
            where = (msg.topic() or "", msg.partition() or 0)
            if msg.error() is None and where not in first:
                first[where] = msg.offset() or 0
        if to_committed:
            assigned = consumer.assignment()
            for tp in consumer.committed(assigned, timeout=10) if assigned else []:
                first[(tp.topic, tp.partition)] = tp.offset if tp.offset >= 0 else OFFSET_BEGINNING
        for (topic, partition), offset in first.items():
            try:
                consumer.seek(TopicPartition(topic, partition, offset))
            except KafkaException as exc:
                # Revoked meanwhile: its next owner starts from the committed offset.
                log.info("not rewinding %s/%s: %s", topic, partition, exc)

    def _wait_out(self, cause: str) -> None:
        self.state = "waiting"
        self.problem = cause
        delay = 1.0
        started = time.monotonic()
        log.warning("waiting: %s", cause)
        while not self._stop.wait(delay):
            feeds_ready = self.governance.ready.is_set() and self.profiles.ready.is_set()
            if feeds_ready and self._registry_answers():
                break
            delay = min(delay * 2, BACKOFF_MAX)
            self._say("outage", f"still waiting after {time.monotonic() - started:.0f}s: {cause}")
        log.warning("resumed after %.0fs: %s", time.monotonic() - started, cause)
        self.state = "running"
        self.problem = ""

    def _registry_answers(self) -> bool:
        try:
            self.fanout.warm_up()
            return True
        except RegistryUnavailable as exc:
            self.problem = str(exc)
            return False

    def _wait_ready(self, *feeds: CompactedFeed) -> None:
        self.state = "waiting"
        for feed in feeds:
            while not self._stop.is_set() and not feed.wait_ready(5.0):
                self.problem = f"waiting for {feed.name}"
                self._say(feed.name, f"waiting for {feed.name} ...")
        self.problem = ""

    def _retract(self, consumer: Consumer, producer: Producer) -> None:
        """Send the retractions of revoked consents, for the partitions this worker owns."""
        revocations = self.governance.take_revocations()
        if not revocations:
            return
        assigned = {(tp.topic, tp.partition) for tp in consumer.assignment()}
        gov = self.governance.current
        outgoing = [
            out
            for event, version in revocations
            for out in retractions(
                self.fanout,
                gov,
                Revocation(event, version),
                owns=lambda topic, partition: (topic, partition) in assigned,
                partitions=self._bank_topics.get,
            )
        ]
        try:
            self._send_retractions(consumer, producer, outgoing)
        except Exception:
            self.governance.give_back(revocations)  # sent once it goes through
            raise
        if outgoing:
            log.info("retracted %d bank record(s) of revoked consents", len(outgoing) // 3)

    def _retract_ended(self, consumer: Consumer, producer: Producer) -> None:
        """Retract what banks hold under ended agreements whose grants say `on_end:
        retract`, on the partitions this worker owns: when the governance changes, when
        partitions move, and every ENDED_EVERY seconds (a window passes by itself)."""
        gov = self.governance.current
        version, when = self._ended_checked
        now = time.monotonic()
        if gov.version == version and now - when < ENDED_EVERY:
            return
        self._ended_checked = (gov.version, now)
        assigned = consumer.assignment()
        marks = []
        for agreement, grant in ended_retracting(gov, datetime.now(UTC)):
            topic = names.bank_topic(agreement.bank, grant.category)
            if topic not in self._bank_topics:
                continue  # the bank never received anything of this category
            source_topic = names.source_topic(grant.category)
            for tp in assigned:
                mark = (agreement.id, agreement.version, topic, tp.partition)
                if tp.topic == source_topic and mark not in self._swept:
                    marks.append((mark, agreement, grant))
        if not marks:
            return
        # Every partition to sweep read at once (a reader each took minutes at scale).
        group = f"{self.worker.app_id}-retraction"
        wanted = sorted({(mark[2], mark[3]) for mark, _, _ in marks})
        held_on = holdings_of(self.kafka.librdkafka(), group, wanted)
        outgoing: list[Outgoing] = []
        for mark, agreement, grant in marks:
            _, _, topic, partition = mark
            held = held_on.get((topic, partition), {})
            keys = [key for key, under in held.items() if under == agreement.id]
            outgoing += agreement_retractions(self.fanout, gov, agreement, grant, partition, keys)
            if keys:
                log.info(
                    "agreement %s ended: retracted %d key(s) of %s (partition %d)",
                    agreement.id, len(keys), topic, partition,
                )  # fmt: skip
        self._send_retractions(consumer, producer, outgoing)
        self._swept.update(mark for mark, _, _ in marks)

    def _retract_earlier(self, consumer: Consumer, producer: Producer) -> None:
        """Once per source partition this worker is given (when it starts, and after a
        rebalance the partitions new to it): the consent revocations made before it started
        (maybe while no worker ran) whose records a bank still holds on that partition, and
        whose consent was not granted again since. A partition it has looked at needs no
        second look when it comes back: no delivery is made under a revoked consent, and
        later revocations are retracted as they come (`_retract`)."""
        if self._earlier_checked:
            return
        assigned = {(tp.topic, tp.partition) for tp in consumer.assignment()} - self._earlier_swept
        self._earlier_checked = True
        if not assigned:
            return  # nothing new: the next rebalance looks again
        gov = self.governance.current
        now = datetime.now(UTC)
        pending = [
            (event, version)
            for event, version in self.governance.earlier_revocations
            if not ((c := gov.consent(event.bank, event.uscc)) and c.covers_any(now))
        ]  # not granted again since

        def where(event: ConsentEvent, source_topic: str, partition: int) -> tuple[str, int]:
            category = names.category_of_source(source_topic) or ""
            return names.bank_topic(event.bank, category), partition

        # First which bank partitions the revocations concern, then all of them read at
        # once: a reader per partition took minutes at 300 categories, at every rebalance.
        wanted: set[tuple[str, int]] = set()
        for event, version in pending:

            def note(topic: str, partition: int, event: ConsentEvent = event) -> bool:
                if (topic, partition) in assigned:
                    wanted.add(where(event, topic, partition))
                return False

            revocation = Revocation(event, version)
            retractions(self.fanout, gov, revocation, note, self._bank_topics.get, now)
        group = f"{self.worker.app_id}-retraction"
        held_on = holdings_of(self.kafka.librdkafka(), group, sorted(wanted)) if wanted else {}
        outgoing: list[Outgoing] = []
        for event, version in pending:

            def owns(topic: str, partition: int, event: ConsentEvent = event) -> bool:
                if (topic, partition) not in assigned:
                    return False
                return event.uscc.encode() in held_on.get(where(event, topic, partition), {})

            outgoing += retractions(
                self.fanout, gov, Revocation(event, version), owns, self._bank_topics.get, now
            )
        self._send_retractions(consumer, producer, outgoing)
        self._earlier_swept |= assigned
        if outgoing:
            log.info("retracted %d bank record(s) of consents revoked earlier", len(outgoing) // 3)

    def _send_retractions(
        self, consumer: Consumer, producer: Producer, outgoing: list[Outgoing]
    ) -> None:
        """Retractions in one transaction, with the audit chain heads they move."""
        if not outgoing:
            return
        # The chains of the retractions' partitions move on: commit their heads, at the
        # offsets already reached there (everything before is done and committed).
        touched = {
            (names.source_topic(match.group("category")), out.partition)
            for out in outgoing
            if out.partition is not None and (match := names.BANK_RE.match(out.topic))
        }
        # A partition not read yet since it was assigned has no position: its committed
        # offset (or its start, which is where the group would begin) carries the head.
        parts = [TopicPartition(t, p) for t, p in touched]
        done = {tp: max(offset, 0) for tp, offset in positions(consumer, parts, 30).items()}
        self._begin(producer)
        for out in outgoing:
            self._produce(producer, out)
        self._commit(consumer, producer, done)
        self.counters["retractions"] += sum(1 for o in outgoing if o.topic == names.AUDIT)

    # ---- bank topics ---------------------------------------------------------------

    def _prepare(self) -> None:
        """Once per governance version, before its events: the bank topics its grants
        need, created in one request, and their bank schemas registered (fanout.warm).
        Deliveries would otherwise make each one as they meet it, in the loop: at 300
        categories that held the first events of a start for many seconds. What cannot
        be made here is made as before, when a delivery needs it."""
        gov = self.governance.current
        if gov.version == self._prepared:
            return
        self._prepared = gov.version
        known = self.topics.partitions()
        self._bank_topics = known
        specs: dict[str, _Wanted] = {}
        for agreement in gov.agreements.values():
            if agreement.status is not Status.active:
                continue
            for grant in agreement.grants:
                topic = names.bank_topic(agreement.bank, grant.category)
                partitions = known.get(names.source_topic(grant.category))
                if topic in known or not partitions:
                    continue
                days = max(grant.retention_days, specs[topic].days if topic in specs else 0)
                specs[topic] = _Wanted(agreement.bank, grant.category, partitions, days)
        try:
            if specs:
                self.topics.ensure([w.spec() for w in specs.values()])
                self._bank_topics = self.topics.partitions()
            for problem in self.fanout.warm(gov):
                log.warning("bank schema not registered: %s", problem)
        except RegistryUnavailable as exc:
            self._prepared = -1  # the events would wait for the registry anyway
            self._wait_out(str(exc))
        except Exception as exc:
            self._say("prepare", f"preparing governance version {gov.version}: {exc}")

    def _ensure_bank_topic(self, topic: str, source_topic: str, retention_days: int) -> None:
        self._needed[topic] = (source_topic, retention_days)
        if topic in self._bank_topics:
            return
        self._bank_topics = self.topics.partitions()
        if topic not in self._bank_topics:
            self._create(topic, source_topic, retention_days)

    def _refresh_bank_topics(self, force: bool = False) -> None:
        # A bank topic deleted by hand is noticed within seconds and created again when a
        # record goes to it: records for it never hold up the other banks'.
        now = time.monotonic()
        if not force and now - self._checked_topics < 5.0:
            return
        self._checked_topics = now
        try:
            self._bank_topics = self.topics.partitions()
            if force:
                for topic, (source_topic, retention) in list(self._needed.items()):
                    if topic not in self._bank_topics:
                        log.warning("bank topic %s is missing: creating it again", topic)
                        self._create(topic, source_topic, retention)
        except Exception as exc:
            self._say("topics", f"checking bank topics failed: {exc}")

    def _create(self, topic: str, source_topic: str, retention_days: int) -> None:
        match = names.BANK_RE.match(topic)
        if match is None:
            raise ValueError(f"not a bank topic: {topic}")
        partitions = self._bank_topics.get(source_topic) or self.topics.partitions()[source_topic]
        spec = bank_spec(match.group("bank"), match.group("category"), partitions, retention_days)
        self.topics.ensure([spec])
        self._bank_topics[topic] = partitions

    # ---- saying things once --------------------------------------------------------

    def _client_error(self, err: KafkaError) -> None:
        self._say(f"client:{err.code()}", f"Kafka client: {err.str()}")

    def _say(self, topic: str, line: str, emit: Callable[..., None] = log.warning) -> None:
        now = time.monotonic()
        if now - self._said.get(topic, -SAY_EVERY) >= SAY_EVERY:
            self._said[topic] = now
            emit(line)


@dataclass(frozen=True)
class _Wanted:
    bank: str
    category: str
    partitions: int
    days: int

    def spec(self) -> TopicSpec:
        return bank_spec(self.bank, self.category, self.partitions, self.days)


def _take(consumer: Consumer) -> list[Message]:
    """What the client has fetched, up to BATCH, without waiting for more: `consume(n, t)`
    waits until it has n messages or t passed, which under paced input put up to t of
    latency on every event. Only when nothing is there, wait (briefly) for the first."""
    batch = consumer.consume(BATCH, 0)
    if batch:
        return batch
    first = consumer.consume(1, 0.05)
    return first + consumer.consume(BATCH - 1, 0) if first else first


def message_headers(msg: Message) -> list[tuple[str, bytes]]:
    """A message's headers as `Source` keeps them (a header without a value: empty)."""
    raw: list[tuple[str, Any]] = list(msg.headers() or [])  # type: ignore[arg-type]
    return [(k, v if isinstance(v, bytes) else b"") for k, v in raw]


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__
