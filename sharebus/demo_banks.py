"""The demo's banks: each reads its topics through the subscriber SDK and counts what its
handler receives, by kind.

Groups are the run's own (`<bank>.demo-<run>`, `sharebus-worker-demo-<run>`), and they are
positioned at the present end of their topics before anything of the run is sent
(`start_at_end`): a new group would otherwise begin at the earliest offset, so a worker
would fan out all of the sources' history again and a bank would count every earlier
run's records. That is how a second run, or a run on a used stack, shows its own events
only; the groups are deleted when the run ends.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from consumers.events import BankEvent, Kind
from consumers.subscriber import Subscriber
from foundation.reading import high_watermarks
from foundation.settings import KafkaSettings

LIVE, BACKFILL, RETRACTION, TOMBSTONE = "change", "backfill", "retraction", "tombstone"
KINDS = (LIVE, BACKFILL, RETRACTION, TOMBSTONE)


class BankReader:
    """One bank's subscriber in a thread of its own; `counts` by kind, `series` of the
    changes received per second of the run."""

    def __init__(
        self, bank: str, group: str, settings: KafkaSettings, run_id: str, t0: float
    ) -> None:
        self.bank = bank
        self.group = group
        self.run_id = run_id
        self.counts: Counter[str] = Counter()
        self.other = 0  # a change of no event of this run: what a re-fan would show
        self.series: Counter[int] = Counter()
        self.error: str | None = None
        self._t0 = t0
        self._settings = settings
        self._subscriber: Subscriber | None = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"demo-bank-{bank}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._subscriber is not None:
            self._subscriber.stop()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        try:
            with Subscriber(self.bank, group=self.group, settings=self._settings) as sub:
                self._subscriber = sub
                if self._stopping.is_set():
                    return
                sub.run(self.handle)
        except Exception as exc:  # shown by the demo in one line
            self.error = f"bank {self.bank} stopped reading: {exc}"

    def handle(self, event: BankEvent) -> None:
        """What a bank's handler does in the demo: count the event by its kind."""
        if event.kind is Kind.tombstone:
            kind = TOMBSTONE
        elif event.kind is Kind.retraction:
            kind = RETRACTION
        elif event.backfill is not None:
            kind = BACKFILL
        elif (event.event_id or "").startswith(f"{self.run_id}-"):
            kind = LIVE
        else:
            self.other += 1
            return
        self.counts[kind] += 1
        if kind in (LIVE, BACKFILL):
            self.series[int(time.monotonic() - self._t0)] += 1


def start_at_end(kafka: KafkaSettings, group: str, prefix: str) -> int:
    """Commit, for `group`, the present end of every partition of the topics named
    `prefix...`; the number of partitions positioned."""
    conf = {**kafka.librdkafka(), "group.id": group, "enable.auto.commit": False}
    consumer = Consumer(conf)
    try:
        topics = consumer.list_topics(timeout=10).topics
        ends = high_watermarks(
            kafka.librdkafka(),
            [
                TopicPartition(name, p)
                for name, meta in sorted(topics.items())
                if name.startswith(prefix)
                for p in meta.partitions
            ],
        )
        if ends:
            consumer.commit(offsets=ends, asynchronous=False)
        return len(ends)
    finally:
        consumer.close()


def delete_groups(kafka: KafkaSettings, groups: list[str]) -> None:
    """Remove the run's consumer groups (best effort: a group still closing stays)."""
    if not groups:
        return
    admin = AdminClient(kafka.librdkafka())
    for future in admin.delete_consumer_groups(groups, request_timeout=10).values():
        with contextlib.suppress(KafkaException):
            future.result(timeout=15)


def lag(admin: Any, group: str) -> int | None:
    """How many source events the workers have yet to decide (None when unknown)."""
    from sharebus.status import group_lag

    try:
        return group_lag(admin, group).lag
    except KafkaException:
        return None
