"""The worker under paced input: latency, and how fast a suspension stops deliveries.

1. the baseline, one plain Kafka hop: events are published at a fixed rate to a consumer
   of the source topics, with no worker running; the time from just before each
   `publish()` to its arrival (p50/p95/p99) is what the broker costs before the worker
   does anything;
2. latency: one worker process starts at the end of the source topics (no backlog) and a
   bank-side consumer reads every bank topic (read_committed, as banks do); the same
   events are published at the same rate, and for each bank record the time from just
   before its event's `publish()` to its arrival at the bank consumer;
3. suspension: while events keep coming at that rate, the agreement that received the
   most is suspended (`governance apply` of the sample folder with its status changed);
   the figure is the time from the apply's return (in force) to the arrival of the last
   record delivered under that agreement; the folder is then applied again as it was.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer

from bench.stats import percentiles
from bench.worker import (
    cpu_seconds,
    events_done,
    group_at,
    start_worker,
    starts_of,
    stop_worker,
    wait_running,
    worker_status,
)
from foundation import headers as h
from foundation.settings import KafkaSettings, get_worker_settings
from producers.publisher import Publisher
from schemas.catalog import load_catalog
from sharebus.governance_log import apply_folder
from streams.fanout import REGISTRATION
from synthetic.generate import population, records


@dataclass
class Arrivals:
    """Bank records as they arrive: (event id, agreement id, arrival time)."""

    seen: list[tuple[str, str, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def bench_live(settings: KafkaSettings, rate: int, seconds: float) -> dict[str, Any]:
    catalog = load_catalog()
    source = _events(catalog)
    publishers = _publishers(settings, source)
    sent: dict[str, float] = {}
    # The baseline alone: a librdkafka consumer sends every partition it reads in each
    # fetch (it has no incremental fetch sessions), so one more consumer of ~900 source
    # partitions running beside the worker took a core of the broker and put seconds on
    # the worker's own figure (p50 6.2 s with it, 0.3 s without, at 300 categories).
    hop = Arrivals()
    stop = threading.Event()
    plain = threading.Thread(target=_read, args=(settings, hop, stop, "^pub\\..*"), daemon=True)
    plain.start()
    try:
        time.sleep(5.0)  # the consumer's assignment and first fetches
        _publish(publishers, source, rate, seconds, sent)
        time.sleep(3.0)
    finally:
        stop.set()
        plain.join(30)
    hops = _latencies(hop, sent)

    group = f"bench-live-{uuid.uuid4().hex[:8]}"
    group_at(settings, group, starts_of(settings, [c.topic for c in catalog]))
    proc, port = start_worker(settings, group, "live")
    arrivals = Arrivals()
    stop = threading.Event()
    reader = threading.Thread(target=_read, args=(settings, arrivals, stop), daemon=True)
    try:
        wait_running(port)
        reader.start()
        time.sleep(5.0)  # the bank consumer's assignment, the worker's first fetches
        cpu, events = cpu_seconds(proc.pid), events_done(worker_status(port))
        _publish(publishers, source, rate, seconds, sent)
        time.sleep(3.0)
        paced = _per_1000(cpu_seconds(proc.pid) - cpu, events_done(worker_status(port)) - events)
        latencies = _latencies(arrivals, sent)
        by_agreement = Counter(a for _, a, _ in _snapshot(arrivals))
        suspended = _suspension(settings, publishers, source, rate, sent, arrivals, by_agreement)
    finally:
        stop.set()
        stop_worker(proc)
        reader.join(30)
    p = percentiles(latencies, (50, 95, 99))
    b = percentiles(hops, (50, 95, 99))
    print(
        f"latency at {rate:,} events/s over {seconds:.0f}s, publish to arrival, ms:"
        f"{'p50':>8}{'p95':>8}{'p99':>8}"
    )
    for label, q in (
        ("bank consumer (through the worker)", p),
        ("source consumer alone (plain Kafka hop, baseline)", b),
    ):
        print(f"  {label:<52}{q[50]:>8.0f}{q[95]:>8.0f}{q[99]:>8.0f}")
    print(f"  ({len(latencies):,} bank records, {len(hops):,} source events)")
    print(f"worker CPU under this paced input: {paced:.2f} s per 1,000 events")
    return {
        "latency_rate_events_per_s": rate,
        "paced_cpu_s_per_1000_events": round(paced, 3),
        "latency_ms": {"p50": round(p[50], 1), "p95": round(p[95], 1), "p99": round(p[99], 1)},
        "plain_hop_latency_ms": {
            "p50": round(b[50], 1),
            "p95": round(b[95], 1),
            "p99": round(b[99], 1),
        },
        **suspended,
    }


def _per_1000(cpu_s: float, events: int) -> float:
    return cpu_s / events * 1000 if events > 0 else 0.0


def _events(catalog: Any) -> list[tuple[str, str, dict[str, Any]]]:
    people = population(200, seed=31)
    cats = [c for c in catalog if c.id != REGISTRATION]
    return [
        (c.agency, c.id, row) for c in cats for row in records(c, people, 60, seed=32)
    ]  # interleaved below by the index


def _publishers(
    settings: KafkaSettings, source: list[tuple[str, str, dict[str, Any]]]
) -> dict[str, Publisher]:
    """A prepared Publisher per agency: limits and schema ids learnt as the first event of
    each of 300 categories came held the publishing back for many seconds, then it caught
    up in a burst."""
    publishers: dict[str, Publisher] = {}
    for agency in sorted({a for a, _, _ in source}):
        publishers[agency] = Publisher(agency=agency, settings=settings)
        publishers[agency].prepare()
    return publishers


def _publish(
    publishers: dict[str, Publisher],
    source: list[tuple[str, str, dict[str, Any]]],
    rate: int,
    seconds: float,
    sent: dict[str, float],
) -> None:
    """Publish at `rate` events/s for `seconds`, in ticks of 10 ms."""
    total = int(rate * seconds)
    started = time.monotonic()
    try:
        for i in range(total):
            due = started + i / rate
            pause = due - time.monotonic()
            if pause > 0.01:
                time.sleep(pause)
            agency, category, row = source[(i * 7919) % len(source)]
            pub = publishers[agency]
            at = time.time()
            sent[pub.publish(category, "c", row["uscc"], after=row)] = at
            pub.poll(0)
    finally:
        for pub in publishers.values():
            pub.flush()


def _read(
    settings: KafkaSettings, arrivals: Arrivals, stop: threading.Event, pattern: str = "^bank\\..*"
) -> None:
    consumer = Consumer(
        {
            **settings.librdkafka(),
            "group.id": f"bench-reader-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "latest",
            "isolation.level": "read_committed",
            "topic.metadata.refresh.interval.ms": 2000,
        }
    )
    consumer.subscribe([pattern])
    try:
        while not stop.is_set():
            for msg in consumer.consume(500, 0.1):
                if msg.error() is not None or msg.value() is None:
                    continue
                now = time.time()
                found = dict(msg.headers() or [])
                event = found.get(h.ID, b"")
                agreement = found.get(h.AGREEMENT_ID, b"")
                with arrivals.lock:
                    arrivals.seen.append((_text(event), _text(agreement), now))
    finally:
        consumer.close()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else ""


def _snapshot(arrivals: Arrivals) -> list[tuple[str, str, float]]:
    with arrivals.lock:
        return list(arrivals.seen)


def _latencies(arrivals: Arrivals, sent: dict[str, float]) -> list[float]:
    return [(at - sent[e]) * 1000 for e, _, at in _snapshot(arrivals) if e in sent]


def _suspension(
    settings: KafkaSettings,
    publishers: dict[str, Publisher],
    source: list[tuple[str, str, dict[str, Any]]],
    rate: int,
    sent: dict[str, float],
    arrivals: Arrivals,
    by_agreement: Counter[str],
) -> dict[str, Any]:
    if not by_agreement:
        print("no bank record arrived: the suspension is not measured")
        return {"suspension_to_last_delivery_ms": None}
    agreement = by_agreement.most_common(1)[0][0]
    folder = get_worker_settings().governance_dir
    with tempfile.TemporaryDirectory(prefix="sharebus-bench-") as tmp:
        suspended = Path(tmp) / "governance"
        shutil.copytree(folder, suspended)
        _suspend(suspended, agreement)
        background = threading.Thread(
            target=_publish, args=(publishers, source, rate, 8.0, sent), daemon=True
        )
        background.start()
        time.sleep(2.0)
        apply_folder(suspended, settings)
        in_force = time.time()
        background.join()
        time.sleep(3.0)
    apply_folder(folder, settings)
    under = [at for _, a, at in _snapshot(arrivals) if a == agreement and at >= in_force]
    last = (max(under) - in_force) * 1000 if under else 0.0
    print(
        f"suspension of {agreement}: last delivery under it {last:.0f} ms after it was in force"
        f" ({len(under)} record(s) after)"
    )
    return {"suspension_to_last_delivery_ms": round(last), "suspended_agreement": agreement}


def _suspend(folder: Path, agreement: str) -> None:
    for path in (folder / "agreements").glob("*.yaml"):
        text = path.read_text("utf-8")
        if re.search(rf"^id: {re.escape(agreement)}$", text, re.MULTILINE):
            if re.search(r"^status: ", text, re.MULTILINE):
                text = re.sub(r"^status: \w+$", "status: suspended", text, flags=re.MULTILINE)
            else:
                text = re.sub(r"^(id: .*)$", r"\1\nstatus: suspended", text, flags=re.MULTILINE)
            path.write_text(text, "utf-8")
            return
    raise SystemExit(f"agreement {agreement} is not in {folder}")
