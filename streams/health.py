"""Is the broker there, is the registry there: for the worker's status and health pages.

Probed with the operator commands' own checks (`foundation.probe`), at most once per
`every` seconds however often the pages are asked for, in a thread of the web server's
pool so that a broker that does not answer never stalls the pages' event loop.
"""

from __future__ import annotations

import threading
import time

from foundation.probe import Health, kafka_health, registry_health
from foundation.settings import KafkaSettings

EVERY = 10.0
TIMEOUT = 3.0


class ServiceHealth:
    def __init__(self, kafka: KafkaSettings, every: float = EVERY, timeout: float = TIMEOUT):
        self.kafka = kafka
        self.every = every
        self.timeout = timeout
        self._last: list[Health] = []
        self._at = -every
        self._lock = threading.Lock()

    def check(self) -> list[Health]:
        """The broker's and the registry's health, at most `every` seconds old (blocks)."""
        with self._lock:
            if time.monotonic() - self._at >= self.every:
                self._last = [
                    kafka_health(self.kafka, self.timeout),
                    registry_health(self.kafka, self.timeout),
                ]
                self._at = time.monotonic()
            return self._last
