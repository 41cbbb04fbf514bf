"""`make bench`: what sharebus costs, next to a baseline measured in the same run.

1. publish: the SDK (validate, encode through the registry, produce) against a bare
   confluent-kafka producer sending the same already-encoded bytes;
2. decide: the fan-out decision for every bank under the sample governance, against a
   bare projection of the same records to the same fields;
3. the worker (one process, then two) against a hand-written loop running the same code
   and against a plain five-fold copy, on the same pre-loaded events (`bench/worker.py`);
4. the broker's ceiling with Kafka's own perf tools (`bench/broker.py`);
5. latency at a fixed input rate and suspension to last delivery (`bench/live.py`);
6. with `--scale` (`make bench SCALE=1`): one worker on events of every category of the
   catalog against the same number on a small catalog: start-up, memory, throughput.

Defaults take a few minutes; `--worker-events`, `--rate`, `--seconds` make larger runs.

The figures are also written to `bench/results/latest.json`.

Figures depend on the machine; the ratios are what to compare between runs.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from bench.broker import broker_ceiling
from bench.live import bench_live
from bench.worker import bench_scale, bench_worker
from foundation.errors import SharebusError
from foundation.settings import get_kafka_settings, get_worker_settings
from governance.decision import Event, decide
from governance.loader import governance_from_dir
from governance.topics import Topics, source_spec
from producers.publisher import Publisher
from schemas.catalog import load_catalog
from sharebus.governance_log import apply_folder
from synthetic.generate import population, records

CATEGORY = "tax.payment-record"


def bench_publish(count: int) -> tuple[float, float]:
    settings = get_kafka_settings()
    cat = load_catalog().get(CATEGORY)
    Topics(settings).ensure([source_spec(CATEGORY)])
    rows = list(records(cat, population(1000, seed=1), count, seed=1))

    with Publisher(agency="tax", settings=settings) as pub:
        # Connected, its topic limits and schemas learnt, before the clock starts: the bare
        # producer below is made before its clock too. Both are timed to their flush.
        pub.prepare()
        started = time.perf_counter()
        for row in rows:
            pub.publish(CATEGORY, "c", row["uscc"], after=row)
        pub.flush()
        sdk = count / (time.perf_counter() - started)

    # Baseline: the same bytes, already encoded, through a bare producer with the same
    # delivery guarantees.
    encoded = [pub.serde.encode(cat.subject, cat.envelope(), _envelope(r)) for r in rows]
    producer = Producer(
        {
            **settings.librdkafka(),
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "compression.type": "lz4",
            "partitioner": "murmur2_random",
        }
    )
    started = time.perf_counter()
    for row, value in zip(rows, encoded, strict=True):
        while True:
            try:
                producer.produce(cat.topic, key=row["uscc"].encode(), value=value)
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    producer.flush(60)
    bare = count / (time.perf_counter() - started)
    return sdk, bare


def _envelope(row: dict[str, Any]) -> dict[str, Any]:
    source = {"agency": "tax", "system": "bench", "sequence": 1}
    return {"op": "c", "before": None, "after": row, "source": source, "ts_ms": 0}


def bench_decide(count: int) -> tuple[float, float]:
    catalog = load_catalog()
    gov = governance_from_dir(get_worker_settings().governance_dir, catalog)
    people = population(1000, seed=7)
    profile = {"scale": "MICRO"}
    banks = gov.active_banks()
    keys = {b: b"bench-key" for b in banks}
    now = datetime.now(UTC)
    cats = [c for c in catalog if c.id != "market.registration"]
    events = []
    for cat in cats:
        for row in records(cat, people, max(1, count // len(cats)), seed=3):
            events.append(Event(cat.id, "c", row["uscc"], None, row))
    started = time.perf_counter()
    for event in events:
        for bank in banks:
            decide(event, bank, gov, profile, now, keys)
    n = len(events) * len(banks)
    ours = (time.perf_counter() - started) / n * 1e6
    fields = {c.id: list(c.field_names)[:6] for c in cats}
    started = time.perf_counter()
    for event in events:
        for _ in banks:
            after = event.after or {}
            {f: after.get(f) for f in fields[event.category]}
    bare = (time.perf_counter() - started) / n * 1e6
    return ours, bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000, help="records for publish/decide")
    parser.add_argument(
        "--worker-events", type=int, default=20_000, help="events for the worker comparison"
    )
    parser.add_argument(
        "--broker-records", type=int, default=200_000, help="records for Kafka's perf tools"
    )
    parser.add_argument("--rate", type=int, default=500, help="events/s for the latency run")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the latency run")
    parser.add_argument(
        "--rounds", type=_rounds, default=2, help="interleaved runs of each worker contender"
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="also the scale run: the whole catalog against a small one (make bench SCALE=1)",
    )
    args = parser.parse_args()
    settings = get_kafka_settings()
    # The figures need the sample governance in force (a fresh stack has none).
    apply_folder(get_worker_settings().governance_dir, settings)
    sdk, bare = bench_publish(args.records)
    ours, baseline = bench_decide(args.records)
    print(f"{'measure':<34}{'sharebus':>14}{'baseline':>14}{'ratio':>9}")
    print(f"{'publish, records/s':<34}{sdk:>14,.0f}{bare:>14,.0f}{sdk / bare:>9.2f}")
    label = "decide, microseconds per decision"
    print(f"{label:<34}{ours:>14.1f}{baseline:>14.1f}{ours / baseline:>9.1f}")
    print(
        f"({args.records:,} records of {CATEGORY}; baseline publish = bare producer, "
        "same bytes; baseline decide = bare projection)"
    )
    print()
    figures = bench_worker(settings, args.worker_events, args.rounds)
    if args.scale:
        figures.update(bench_scale(settings, args.worker_events))
    produced, consumed = broker_ceiling(settings, args.broker_records)
    print(
        f"broker (Kafka's perf tools, {args.broker_records:,} records): "
        f"{produced:,.0f} produced/s, {consumed:,.0f} consumed/s"
    )
    figures.update(bench_live(settings, args.rate, args.seconds))
    backlog, paced = figures["cpu_s_per_1000_events"], figures["paced_cpu_s_per_1000_events"]
    print(
        f"worker CPU s per 1,000 events: {backlog:.2f} on a backlog, {paced:.2f} at "
        f"{args.rate:,} events/s ({paced / backlog if backlog else 0:.1f}x)"
    )
    figures.update(
        broker_records_per_s=round(min(produced, consumed)),
        broker_produced_per_s=round(produced),
        broker_consumed_per_s=round(consumed),
        publish_records_per_s=round(sdk),
        publish_baseline_records_per_s=round(bare),
        decide_us=round(ours, 2),
    )
    out = Path(__file__).parent / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"figures written to {out}")


def _rounds(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"at least 1, not {value}")
    return value


if __name__ == "__main__":
    try:
        main()
    except SharebusError as exc:  # the stack down, a refusal: one line, not a traceback
        raise SystemExit(f"error: {exc}") from None
