"""Enterprise profiles (scale, district, industry, status, ...) from `market.registration`.

Every worker keeps the latest profile of every enterprise, read from the compacted source
topic. The fan-out agent also records the registrations it processes itself, so that a
worker knows a profile as soon as it has handled the registration; an entry only ever
moves forward in offsets, so the feed thread can never bring back an older profile.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from confluent_kafka import Message

from governance.decision import Event
from schemas import names
from schemas.errors import RegistryUnavailable
from schemas.serde import AvroSerde
from streams.fanout import REGISTRATION, profile_of
from streams.feed import CompactedFeed

log = logging.getLogger("sharebus.profiles")


class ProfileFeed(CompactedFeed):
    name = "profile-feed"

    def __init__(self, kafka_conf: dict[str, Any], serde: AvroSerde, poll: float = 0.2) -> None:
        super().__init__(kafka_conf, [names.source_topic(REGISTRATION)], poll)
        self.serde = serde
        self._profiles: dict[bytes, tuple[int, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def get(self, key: bytes | None) -> dict[str, Any] | None:
        if key is None:
            return None
        entry = self._profiles.get(key)
        return entry[1] if entry else None

    def record(self, key: bytes, offset: int, profile: dict[str, Any] | None) -> None:
        """Keep `profile` for `key` unless a later offset is already known."""
        with self._lock:
            known = self._profiles.get(key)
            if known is None or known[0] < offset:
                self._profiles[key] = (offset, profile)

    def apply(self, msg: Message) -> bool:
        key = msg.key()
        if key is None:
            return False
        value = msg.value()
        profile = None
        if value is not None:
            try:
                _, env = self.serde.decode(value)
                event = Event(REGISTRATION, env["op"], key.decode(), env["before"], env["after"])
                profile = profile_of(event)
            except RegistryUnavailable:
                # Not ready until it is read: a missing profile would deny wrongly.
                raise
            except Exception as exc:
                # The worker sends such a message to the DLQ; here it is only skipped.
                log.debug("registration %s/%s unreadable: %s", msg.partition(), msg.offset(), exc)
                return False
        self.record(key, msg.offset() or 0, profile)
        return True

    def __len__(self) -> int:
        return sum(1 for _, p in self._profiles.values() if p is not None)
