"""The demo's agencies: each publishes generated records at its own, uneven rate.

The shares follow the programme's real volumes: market regulation (registrations, annual
reports, penalties) and tax publish most; science and technology least. One thread sends
for all eight agencies (confluent-kafka producers send in their own threads; this loop
only paces them). Event ids are `<run id>-<n>`, so the audit and the banks' handlers can
tell this run's events from any earlier run's.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from producers.publisher import Publisher
from schemas.catalog import Catalog, Category
from synthetic.generate import Enterprise, records

# Percent of the events per agency.
AGENCY_SHARE = {
    "market": 30,
    "tax": 24,
    "hrss": 12,
    "court": 10,
    "housing": 7,
    "planning": 6,
    "ecology": 6,
    "stc": 5,
}
REGISTRATION = "market.registration"
DELETE_SHARE = 0.04  # an enterprise's record withdrawn at the agency: a delete + tombstone
TICK = 0.2


class Traffic:
    """Publishes for every agency at `rate` events a second in all, until `stop()`."""

    def __init__(
        self,
        run_id: str,
        rate: float,
        people: list[Enterprise],
        catalog: Catalog,
        settings_of: Any,
    ) -> None:
        """`settings_of(agency)` gives the Kafka settings an agency publishes with."""
        self.run_id = run_id
        self.rate = rate
        self.people = people
        self.published: Counter[str] = Counter()
        self.error: str | None = None
        self._rng = random.Random(run_id)
        self._catalog = catalog
        self._stop = threading.Event()
        self._count = 0
        self._publishers = {
            a: Publisher(agency=a, system="demo", settings=settings_of(a), catalog=catalog)
            for a in AGENCY_SHARE
        }
        self._records: dict[str, Iterator[dict[str, Any]]] = {}
        self._thread = threading.Thread(target=self._run, name="demo-agencies", daemon=True)

    def snapshot(self) -> int:
        """Market regulation publishes every enterprise's registration first (op `r`): the
        banks' filters on enterprise scale read these profiles. Each publisher also learns
        its topics' limits and schema ids now, so the clock's first seconds are not spent
        on that."""
        for pub in self._publishers.values():
            pub.prepare()
        category = self._catalog.get(REGISTRATION)
        for record in records(category, self.people, len(self.people), seed=7):
            self._send(self._publishers["market"], category, "r", record)
        self._publishers["market"].flush()
        return len(self.people)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop publishing and wait until every record sent is acknowledged."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)
        for publisher in self._publishers.values():
            publisher.flush()

    @property
    def total(self) -> int:
        return sum(self.published.values())

    def event_id(self) -> str:
        self._count += 1
        return f"{self.run_id}-{self._count}"

    def _run(self) -> None:
        credit = dict.fromkeys(AGENCY_SHARE, 0.0)
        categories = {
            a: [c for c in self._catalog.of_agency(a) if c.id != REGISTRATION] for a in AGENCY_SHARE
        }
        last = time.monotonic()
        try:
            while not self._stop.wait(TICK):
                # By the time that passed, not the tick: a busy machine gets bursts, not less.
                now = time.monotonic()
                elapsed, last = now - last, now
                for agency, share in AGENCY_SHARE.items():
                    # Uneven seconds around each agency's mean rate.
                    credit[agency] += (
                        self.rate * share / 100 * elapsed * self._rng.uniform(0.3, 1.7)
                    )
                    while credit[agency] >= 1:
                        credit[agency] -= 1
                        category = self._rng.choice(categories[agency])
                        self._publish_one(agency, category)
        except Exception as exc:  # shown by the demo in one line, and the run stops
            self.error = f"agency publishing stopped: {exc}"

    def _publish_one(self, agency: str, category: Category) -> None:
        made = self._records.get(category.id)
        if made is None:
            made = self._records[category.id] = records(category, self.people, 10**9, seed=11)
        record = next(made)
        if self._rng.random() < DELETE_SHARE:
            self._send(self._publishers[agency], category, "d", record)
        else:
            self._send(self._publishers[agency], category, "c", record)

    def _send(self, pub: Publisher, category: Category, op: str, record: dict[str, Any]) -> None:
        before, after = (record, None) if op == "d" else (None, record)
        pub.publish(
            category.id, op, record["uscc"], before=before, after=after, event_id=self.event_id()
        )
        self.published[pub.agency] += 1
