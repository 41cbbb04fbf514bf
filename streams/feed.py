"""A compacted topic read in full, from its beginning, into memory, in a thread.

Used for what every worker must see whole and what is small: governance and enterprise
profiles. No consumer group: every partition is assigned from the beginning, nothing is
committed. `ready` is set once every partition has been read to its end at least once.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition

log = logging.getLogger("sharebus.feed")


class CompactedFeed:
    """Subclasses say what a message means (`apply`) and what to do after a batch."""

    name = "feed"

    def __init__(self, kafka_conf: dict[str, Any], topics: list[str], poll: float = 0.1) -> None:
        self._conf = {
            **kafka_conf,
            # librdkafka wants a group id; nothing is committed under it.
            "group.id": f"sharebus-{self.name}-reader",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
        self._topics = topics
        self._poll = poll
        self.ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def wait_ready(self, timeout: float) -> bool:
        return self.ready.wait(timeout)

    def apply(self, msg: Message) -> bool:
        """Take one message in; True when the state changed."""
        raise NotImplementedError

    def after_batch(self, changed: bool) -> None:
        """Called after each batch (and once when first ready)."""

    def at_end(self, topic: str, partition: int, offset: int) -> bool:
        """A partition was read to its end, `offset`; True when that changes the state."""
        return False

    def _run(self) -> None:
        # Never give up: a feed that stopped would leave its worker deciding on a stale
        # state (a suspension not taking effect). Read again from the beginning instead.
        while not self._stop.is_set():
            try:
                self._read()
            except Exception as exc:
                # Not ready while it has not read everything: deciding on a state with a
                # gap would deny (or allow) wrongly. Readers wait for it to be ready again.
                self.ready.clear()
                log.warning("%s failed (%s); reading again in 5s", self.name, exc)
                self._stop.wait(5)

    def _read(self) -> None:
        consumer = Consumer(self._conf)
        try:
            partitions = self._partitions(consumer)
            consumer.assign(partitions)
            pending = {(tp.topic, tp.partition) for tp in partitions}
            # Nothing is published before every partition has been read to its end: a
            # half-read log holds older records (an agreement before its suspension).
            caught_up = False
            while not self._stop.is_set():
                changed = False
                for msg in consumer.consume(500, self._poll):
                    err = msg.error()
                    if err is None:
                        changed |= self.apply(msg)
                    elif err.code() == KafkaError._PARTITION_EOF:
                        pending.discard((msg.topic() or "", msg.partition() or 0))
                        end = msg.offset() or 0
                        changed |= self.at_end(msg.topic() or "", msg.partition() or 0, end)
                    else:
                        log.warning("%s read error: %s", self.name, err.str())
                if not pending and (changed or not caught_up):
                    self.after_batch(changed)
                    caught_up = True
                    self.ready.set()
        finally:
            consumer.close()

    def _partitions(self, consumer: Consumer) -> list[TopicPartition]:
        deadline = time.monotonic() + 60
        while True:
            meta = consumer.list_topics(timeout=10)
            found = [
                TopicPartition(topic, p, OFFSET_BEGINNING)
                for topic in self._topics
                if topic in meta.topics and not meta.topics[topic].error
                for p in meta.topics[topic].partitions
            ]
            if len({tp.topic for tp in found}) == len(self._topics):
                return found
            if time.monotonic() > deadline:
                missing = sorted(set(self._topics) - {tp.topic for tp in found})
                raise RuntimeError(f"topics missing: {missing}; run `sharebus topics apply`")
            self._stop.wait(1)
