"""The subscriber SDK: a bank reads its own topics (`bank.<bank>.<category>`).

    with Subscriber(bank="ccb", group="ccb.loans") as sub:
        for event in sub.events(idle=10):
            ...                     # an event is committed once this body has finished

    Subscriber(bank="ccb", group="ccb.loans").run(handler)   # the same, with a callable

Each event is committed (offset and de-duplication watermarks, `consumers.dedup`) after
the handler returned — in the loop form, when the next event is asked for or the block
is left without an exception. An exception leaves the event uncommitted: it comes again
on the next start. A replay (a worker that restarted, a rebalance, this process killed
between two commits of the worker's) is dropped by its source position.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition

from consumers.dedup import Watermarks
from consumers.events import BankEvent, Kind, from_message
from foundation import headers as h
from foundation.errors import SharebusError
from foundation.kafka_errors import refusal
from foundation.settings import KafkaSettings, get_kafka_settings
from schemas import names
from schemas.errors import SchemaError
from schemas.serde import AvroSerde, registry_client

Partition = tuple[str, int]
# Dropped replays are committed lazily, with the next handled event or at this interval.
DROPS_COMMIT_SECONDS = 2.0


class SubscribeError(SharebusError):
    """The bank's topics could not be read."""


class Subscriber:
    """Reads one bank's topics, all of them or the categories named, each event once."""

    def __init__(
        self,
        bank: str,
        *,
        group: str | None = None,
        categories: list[str] | None = None,
        from_beginning: bool = False,
        commit: bool = True,
        settings: KafkaSettings | None = None,
    ) -> None:
        """`from_beginning` reads every retained event again (and forgets what the group
        had seen); `commit=False` reads without moving the group on."""
        if not names.BANK_RE.match(names.bank_topic(bank, "a.b")):
            raise SubscribeError(f"'{bank}' is not a bank id (lower case letters, digits, '-')")
        group = group or f"{bank}.default"
        if not group.startswith(f"{bank}."):
            raise SubscribeError(
                f"consumer group '{group}' refused: the groups of bank '{bank}' start with "
                f"'{bank}.' (e.g. '{bank}.loans')"
            )
        bad = [c for c in categories or [] if not names.CATEGORY_RE.match(c)]
        if bad:
            raise SubscribeError(f"not a category id: {', '.join(bad)} (e.g. tax.payment-record)")
        settings = settings or get_kafka_settings()
        self.principal = settings.principal
        self.bank = bank
        self.group = group
        self.commits = commit
        self.dropped = 0
        self._from_beginning = from_beginning
        self._rewound: set[Partition] = set()
        self._marks: dict[Partition, Watermarks] = {}
        self._next: dict[Partition, int] = {}  # offset to commit, not yet committed
        self._handed: Message | None = None  # yielded, its handler not yet known to be done
        self._last_commit = time.monotonic()
        self._assigned_at = 0.0
        self._stop = threading.Event()
        self.serde = AvroSerde(registry_client(settings.registry()))
        self._consumer = Consumer(
            {
                **settings.librdkafka(),
                "group.id": group,
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "topic.metadata.refresh.interval.ms": 5000,
            }
        )
        if categories:
            topics = [names.bank_topic(bank, c) for c in categories]
        else:
            topics = [f"^{re.escape(names.BANK_PREFIX + bank)}\\..*"]
        self._consumer.subscribe(
            topics, on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
        )

    def __enter__(self) -> Subscriber:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()
        self.close()

    def close(self) -> None:
        """Leave the group; what was not committed comes again to the next consumer."""
        self._consumer.close()

    def stop(self) -> None:
        """Ask `events()` / `run()` to end after the current event (safe from a signal)."""
        self._stop.set()

    # ---- reading --------------------------------------------------------------------

    def run(
        self,
        handler: Callable[[BankEvent], Any],
        *,
        idle: float | None = None,
        timeout: float | None = None,
    ) -> int:
        """Call `handler` for each event until `stop()`, `idle` quiet seconds or `timeout`;
        commit each event once its handler returned. Returns the number handled."""
        count = 0
        for event in self.events(idle=idle, timeout=timeout):
            handler(event)
            count += 1
        self.commit()
        return count

    def events(
        self, timeout: float | None = None, idle: float | None = None
    ) -> Iterator[BankEvent]:
        """Yield events until `stop()`, `timeout` seconds, or `idle` seconds bring nothing."""
        deadline = None if timeout is None else time.monotonic() + timeout
        last = time.monotonic()
        while True:
            self._commit_handed()
            if self._stop.is_set() or (deadline is not None and time.monotonic() > deadline):
                return
            msg = self._consumer.poll(0.5)
            if msg is None:
                self._commit_drops()
                # Quiet is counted from the group's last assignment too: joining takes seconds.
                if idle is not None and time.monotonic() - max(last, self._assigned_at) > idle:
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
            event = self._decode(msg)
            if not self._admit(msg, event):
                self.dropped += 1
                self._commit_drops()
                continue
            self._handed = msg
            yield event

    def _decode(self, msg: Message) -> BankEvent:
        raw = msg.value()
        try:
            value = None if raw is None else self.serde.decode(raw)[1]
        except SchemaError as exc:
            where = f"{msg.topic()}/{msg.partition()}/{msg.offset()}"
            raise SubscribeError(f"undecodable message at {where}: {exc}") from exc
        return from_message(
            msg.topic() or "",
            msg.partition() or 0,
            msg.offset() or 0,
            msg.key(),
            value,
            h.as_dict(msg.headers()),
        )

    def _admit(self, msg: Message, event: BankEvent) -> bool:
        tp = (msg.topic() or "", msg.partition() or 0)
        marks = self._marks.setdefault(tp, Watermarks())
        admitted = marks.admit(
            event.source,
            erasure=event.kind is not Kind.change,
            backfill=event.backfill is not None,
        )
        self._next[tp] = (msg.offset() or 0) + 1
        return admitted

    # ---- committing -----------------------------------------------------------------

    def commit(self) -> None:
        """Commit everything handed over so far (call it once the last event is done)."""
        self._handed = None
        self._commit(list(self._next))

    def _commit_handed(self) -> None:
        if self._handed is not None:
            self.commit()

    def _commit_drops(self) -> None:
        if self._next and time.monotonic() - self._last_commit > DROPS_COMMIT_SECONDS:
            self._commit(list(self._next))

    def _commit(self, partitions: list[Partition]) -> None:
        self._last_commit = time.monotonic()
        offsets = [
            TopicPartition(topic, p, self._next.pop((topic, p)), self._metadata((topic, p)))
            for topic, p in partitions
            if (topic, p) in self._next
        ]
        if not offsets or not self.commits:
            return
        try:
            self._consumer.commit(offsets=offsets, asynchronous=False)
        except Exception as exc:
            raise SubscribeError(f"committing offsets of group {self.group} failed: {exc}") from exc

    def _metadata(self, tp: Partition) -> str:
        return self._marks.get(tp, Watermarks()).to_metadata()

    # ---- rebalances -----------------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        committed = consumer.committed(partitions, timeout=30) if partitions else []
        for tp in committed:
            key = (tp.topic, tp.partition)
            if self._from_beginning and key not in self._rewound:
                # A fresh start: the group's positions and watermarks are both forgotten.
                self._rewound.add(key)
                tp.offset = OFFSET_BEGINNING
                self._marks[key] = Watermarks()
            else:
                self._marks[key] = Watermarks.from_metadata(tp.metadata)
        consumer.assign(committed)
        self._assigned_at = time.monotonic()

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        # Called inside poll(): every event handed over before it has been handled.
        self._handed = None
        self._commit([(tp.topic, tp.partition) for tp in partitions])
        self._forget(partitions)

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self._next.pop((tp.topic, tp.partition), None)
        self._forget(partitions)

    def _forget(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self._marks.pop((tp.topic, tp.partition), None)
