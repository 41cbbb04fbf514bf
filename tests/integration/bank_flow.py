"""Change histories of a few enterprises on `court.judgment`, and what the bank `bosc`
(granted it without filter or consent) must see of them: the bank-side tests' data."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from consumers.events import BankEvent
from consumers.subscriber import Subscriber
from foundation.settings import KafkaSettings
from producers.publisher import Publisher
from schemas.catalog import load_catalog
from synthetic.generate import Enterprise, population, records

BANK = "bosc"
CATEGORY = "court.judgment"
TOPIC = f"bank.{BANK}.{CATEGORY}"
# What a handler of bosc sees of one history below, in order: (kind, op).
EXPECTED = [
    ("change", "c"),
    ("change", "u"),
    ("change", "u"),
    ("change", "d"),
    ("tombstone", None),
    ("change", "c"),
    ("change", "u"),
]


def enterprises(unique: str, count: int) -> list[Enterprise]:
    """`count` enterprises no other test uses (the population's seed is the test's)."""
    return population(count, seed=int(unique, 16) % 10_000_000)


def publish_histories(settings: KafkaSettings, ents: list[Enterprise]) -> None:
    """For each enterprise: create, update, update, delete, create again, update — the
    enterprises interleaved, so that per-enterprise order is not file order."""
    cat = load_catalog().get(CATEGORY)
    made = iter(records(cat, ents, 5 * len(ents), seed=len(ents)))
    recs = {e.uscc: [] for e in ents}  # type: dict[str, list[dict[str, Any]]]
    for _ in range(5):
        for e in ents:
            recs[e.uscc].append({**next(made), "uscc": e.uscc, "enterprise_name": e.name})
    with Publisher(agency="court", settings=settings) as pub:
        for step in range(6):
            for e in ents:
                r = recs[e.uscc]
                if step == 0:
                    pub.publish(CATEGORY, "c", e.uscc, after=r[0])
                elif step in (1, 2):
                    pub.publish(CATEGORY, "u", e.uscc, before=r[step - 1], after=r[step])
                elif step == 3:
                    pub.publish(CATEGORY, "d", e.uscc, before=r[2])
                elif step == 4:
                    pub.publish(CATEGORY, "c", e.uscc, after=r[3])
                else:
                    pub.publish(CATEGORY, "u", e.uscc, before=r[3], after=r[4])


def by_key(seen: list[dict[str, Any]]) -> dict[str, list[tuple[str, str | None]]]:
    """(kind, op) per enterprise, in the order the handler saw them."""
    out: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for s in seen:
        out[s["key"]].append((s["kind"], s["op"]))
    return dict(out)


def assert_once_in_order(seen: list[dict[str, Any]], ents: list[Enterprise]) -> None:
    """Every expected event of every enterprise, once, in its order; nothing else."""
    mine = [s for s in seen if s["key"] in {e.uscc for e in ents}]
    positions = [(s["topic"], s["partition"], s["offset"]) for s in mine]
    assert len(positions) == len(set(positions)), "a bank message reached the handler twice"
    got = by_key(mine)
    assert got == {e.uscc: EXPECTED for e in ents}
    for e in ents:
        sources = [int(s["source"].rsplit("/", 1)[1]) for s in mine if s["key"] == e.uscc]
        assert sources == sorted(sources), f"{e.uscc} out of its source order"


def gather(
    sub: Subscriber,
    keys: set[str],
    want: int,
    quiet: float = 6,
    timeout: float = 120,
    idle: float | None = None,
) -> list[BankEvent]:
    """The events of `keys`: until `want` of them (or `timeout`, or `idle` seconds of
    nothing), then `quiet` seconds more for any that should not be there. Waiting for the
    count, not for a pause, keeps a slow worker (a rebalance, a registry call) from ending
    the wait before the first delivery."""
    got: list[BankEvent] = []
    for event in sub.events(timeout=timeout, idle=idle):
        if event.key in keys:
            got.append(event)
        if len(got) >= want:
            break
    got += [e for e in sub.events(idle=quiet) if e.key in keys]
    return got


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
