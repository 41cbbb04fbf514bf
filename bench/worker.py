"""The worker against a hand-written loop and the client's ceiling, on the same events.

Events are pre-loaded once into the source topics (registrations first, then every
category, under the governance in force). Each contender then reads exactly those
events through a consumer group of its own that starts where the pre-load began:

- `worker`: a real `sharebus worker` process (the faust app hosting the fan-out loop);
- `baseline`: a plain confluent-kafka consume / `FanOut` / produce loop, in this process:
  the Python ceiling for this job. It does the worker's work on the same input (the
  events' headers, the audit chained per source partition, its heads kept in memory),
  without transactions;
- `passthrough`: the same loop copying each message five times, no decode or decision:
  the client's ceiling.

Figures: input events/s, output messages/s, CPU seconds per 1,000 events, peak RSS.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import Consumer, Producer, TopicPartition

from bench import batches
from bench.batches import Batches
from foundation.reading import high_watermarks
from foundation.settings import PROJECT_ROOT, KafkaSettings, get_worker_settings
from governance.loader import governance_from_dir
from governance.topics import Topics, TopicSpec, source_spec
from producers.publisher import Publisher
from schemas import names
from schemas.catalog import load_catalog
from schemas.serde import AvroSerde, registry_client
from sharebus.governance_log import apply_folder, read_current
from streams.audit_chain import GENESIS, chain_of, seal
from streams.fanout import REGISTRATION, FanOut, Outgoing, Source
from streams.pipeline import OUTPUT_PRODUCER, message_headers
from streams.profile_feed import ProfileFeed
from synthetic.generate import population, records

SCRATCH = "bench.passthrough"
LOGS = PROJECT_ROOT / ".stack" / "bench"


@dataclass
class Result:
    name: str
    events: int
    seconds: float
    outputs: int
    cpu_s: float
    rss_mb: float
    startup_s: float = 0.0  # a worker's: from its launch until its loop runs
    settle_s: float = 0.0  # several workers': from the first event to every one handing over

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def row(self) -> str:
        cpu = self.cpu_s / self.events * 1000 if self.events else 0.0
        return (
            f"{self.name:<12}{self.events_per_s:>12,.0f}{self.outputs / self.seconds:>14,.0f}"
            f"{cpu:>12.2f}{self.rss_mb:>10.0f}"
        )


def preload(
    settings: KafkaSettings, count: int, categories: int = 0
) -> tuple[dict[str, list[TopicPartition]], int]:
    """Publish `count` events (registrations first) over the catalog's categories, or
    over the first `categories` of them in a stable spread of agencies; where each
    source topic began."""
    catalog = load_catalog()
    # A fresh stack has no source topics yet (`sharebus topics apply` makes them).
    Topics(settings).ensure([source_spec(c.id) for c in catalog])
    cats = [c for c in catalog if c.id != REGISTRATION]
    if categories:
        cats = sorted(cats, key=lambda c: c.id)[:: max(1, len(cats) // categories)][:categories]
    starts = starts_of(settings, [catalog.get(REGISTRATION).topic, *(c.topic for c in cats)])
    people = population(1000, seed=21)
    per = max(1, (count - len(people)) // len(cats))
    total = 0
    by_agency: dict[str, Publisher] = {}
    try:
        for ent_row in records(catalog.get(REGISTRATION), people, len(people), seed=21):
            pub = by_agency.setdefault("market", Publisher(agency="market", settings=settings))
            pub.publish(REGISTRATION, "c", ent_row["uscc"], after=ent_row)
            total += 1
        for cat in cats:
            pub = by_agency.setdefault(cat.agency, Publisher(agency=cat.agency, settings=settings))
            for row in records(cat, people, per, seed=22):
                pub.publish(cat.id, "c", row["uscc"], after=row)
                total += 1
    finally:
        for pub in by_agency.values():
            pub.flush()
    return starts, total


def starts_of(settings: KafkaSettings, topics: list[str]) -> dict[str, list[TopicPartition]]:
    """Where each topic's partitions end now (one request per broker)."""
    known = Topics(settings).partitions()
    asked = [TopicPartition(t, p) for t in topics for p in range(known[t])]
    starts: dict[str, list[TopicPartition]] = {}
    for tp in high_watermarks(settings.librdkafka(), asked):
        starts.setdefault(tp.topic, []).append(tp)
    return starts


def group_at(settings: KafkaSettings, group: str, starts: dict[str, list[TopicPartition]]) -> None:
    consumer = Consumer({**settings.librdkafka(), "group.id": group})
    try:
        consumer.commit(offsets=[tp for tps in starts.values() for tp in tps], asynchronous=False)
    finally:
        consumer.close()


def run_worker(
    settings: KafkaSettings,
    starts: dict[str, list[TopicPartition]],
    total: int,
    processes: int = 1,
) -> Result:
    """`processes` worker processes of one group through the pre-loaded events.

    Sustained throughput: counted from the moment every process has handed over events
    (the group settled; for several processes, the joins and the first rebalance come
    before it, reported apart as `settle_s`) to the last event."""
    group = f"bench-worker-{uuid.uuid4().hex[:8]}"
    group_at(settings, group, starts)
    launched = time.monotonic()
    procs = [start_worker(settings, group, f"{group}-{i}") for i in range(processes)]
    try:
        # (when, events, outputs, cpu) at the first event handed over by any process, and
        # once the group settled (every process handing over)
        first: tuple[float, int, int, float] | None = None
        mark: tuple[float, int, int, float] | None = None
        last = None
        started: float | None = None
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline and all(p.poll() is None for p, _ in procs):
            statuses = [worker_status(port) for _, port in procs]
            if started is None and all(s.get("state") == "running" for s in statuses):
                started = time.monotonic() - launched
            each = [events_done(s) for s in statuses]
            now = time.monotonic()
            if any(each) and (first is None or (mark is None and all(each))):
                cpu = sum(cpu_seconds(p.pid) for p, _ in procs)
                point = (now, sum(each), sum(_outputs_of(s) for s in statuses), cpu)
                first = first or point
                mark = point if all(each) else None
            if sum(each) >= total:
                last = now
                break
            time.sleep(0.1)
        if first is None or last is None:
            raise SystemExit(f"the worker did not process the events; see {LOGS}")
        if mark is None or sum(each) <= mark[1]:
            print(
                "  (the events ran out before every worker handed over: counted from the first "
                "event; give more --worker-events)"
            )
            mark = first
        if sum(each) <= mark[1]:
            raise SystemExit("too few events to time the worker: give more --worker-events")
        cpu = sum(cpu_seconds(p.pid) for p, _ in procs) - mark[3]
        statuses = [worker_status(port) for _, port in procs]
        outputs = sum(_outputs_of(s) for s in statuses) - mark[2]
        rss = max(_rss_mb(p.pid) for p, _ in procs)
        name = "worker" if processes == 1 else f"worker x{processes}"
        return Result(
            name,
            sum(each) - mark[1],
            last - mark[0],
            outputs,
            cpu,
            rss,
            started or last - launched,
            settle_s=mark[0] - first[0],
        )
    finally:
        for proc, _ in procs:
            stop_worker(proc)


def events_done(status: dict[str, Any]) -> int:
    """Events a worker has handed over (processed, or sent to the dead letters)."""
    return int(status.get("events", 0)) + int(status.get("dead_letters", 0))


def _outputs_of(status: dict[str, Any]) -> int:
    # Bank records and audit records (one per decision), and dead letters.
    delivered, denied = int(status.get("delivered", 0)), int(status.get("denied", 0))
    return 2 * delivered + denied + int(status.get("dead_letters", 0))


def start_worker(
    settings: KafkaSettings, group: str, name: str
) -> tuple[subprocess.Popen[bytes], int]:
    """A `sharebus worker` process of `group`, and the port of its status page."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "SHAREBUS_WORKER_APP_ID": group,
        "SHAREBUS_WORKER_WEB_PORT": str(port),
        "SHAREBUS_BOOTSTRAP": settings.bootstrap,
        "SHAREBUS_REGISTRY_URL": settings.registry_url,
        "SHAREBUS_WORKER_MASK_KEYS": json.dumps({b: "bench-key" for b in _banks(settings)}),
    }
    LOGS.mkdir(parents=True, exist_ok=True)
    with open(LOGS / f"{name}.log", "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sharebus.cli", "worker", "--log-level", "warning"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=PROJECT_ROOT,
        )
    return proc, port


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def wait_running(port: int, timeout: float = 120.0) -> None:
    """Until the worker's status page says its loop runs."""
    deadline = time.monotonic() + timeout
    while worker_status(port).get("state") != "running":
        if time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start; see {LOGS}")
        time.sleep(0.2)


def worker_status(port: int) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as resp:
            body: dict[str, Any] = json.loads(resp.read())
            return body
    except (OSError, ValueError):
        return {}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _banks(settings: KafkaSettings) -> list[str]:
    return read_current(settings).active_banks()


def run_loop(
    settings: KafkaSettings,
    starts: dict[str, list[TopicPartition]],
    total: int,
    passthrough: bool,
) -> Result:
    """The hand-written loop (or the five-fold copy) in this process."""
    name = "passthrough" if passthrough else "baseline"
    group = f"bench-{name}-{uuid.uuid4().hex[:8]}"
    group_at(settings, group, starts)
    gov = read_current(settings)
    serde = AvroSerde(registry_client(settings.registry()))
    fanout = FanOut(load_catalog(), serde, {b: b"bench-key" for b in gov.active_banks()})
    # As the worker does before its first event: every schema it will read and write.
    fanout.warm_up()
    fanout.warm(gov)
    fanout.audit_partitions = Topics(settings).partitions().get(names.AUDIT)
    heads: dict[str, str] = {}

    def chained(record: dict[str, Any], src: Source) -> None:
        chain = chain_of(group, src.topic, src.partition)
        heads[chain] = seal(record, chain, heads.get(chain, GENESIS))

    fanout.sealer = chained
    profiles = ProfileFeed(settings.librdkafka(), serde)
    profiles.start()
    profiles.wait_ready(120)
    consumer = Consumer(
        {
            **settings.librdkafka(),
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    producer = Producer({**settings.librdkafka(), **OUTPUT_PRODUCER})
    consumer.subscribe([f"^{get_worker_settings().source_pattern}"])
    done = outputs = 0
    first = None
    cpu_first = 0.0
    try:
        while done < total:
            batch = consumer.consume(1000, 1.0)
            if batch and first is None:
                first, cpu_first = time.monotonic(), time.process_time()
            for msg in batch:
                if msg.error():
                    continue
                done += 1
                outs: list[Outgoing]
                if passthrough:
                    outs = [Outgoing(SCRATCH, msg.key(), msg.value(), [])] * 5
                else:
                    src = Source(
                        msg.topic() or "",
                        msg.partition() or 0,
                        msg.offset() or 0,
                        msg.key(),
                        msg.value(),
                        message_headers(msg),
                    )
                    decoded = fanout.decode(src)
                    if decoded is None or isinstance(decoded, Outgoing):
                        outs = [decoded] if decoded else []
                    else:
                        outs, _ = fanout.fan(decoded, src, gov, profiles.get(src.key))
                for out in outs:
                    _produce(producer, out)
                outputs += len(outs)
            consumer.commit(asynchronous=True)
        producer.flush(60)
        seconds = time.monotonic() - (first or time.monotonic())
        cpu = time.process_time() - cpu_first
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return Result(name, done, seconds, outputs, cpu, rss)
    finally:
        consumer.close()
        profiles.stop()


def _produce(producer: Producer, out: Outgoing) -> None:
    while True:
        try:
            producer.produce(out.topic, value=out.value, key=out.key, headers=list(out.headers))
            producer.poll(0)
            return
        except BufferError:
            producer.poll(0.1)


CONTENDERS = ("worker", "baseline", "worker x2", "passthrough")


def bench_worker(
    settings: KafkaSettings, count: int, rounds: int = 2, categories: int = 0
) -> dict[str, Any]:
    """Each contender `rounds` times on the same pre-loaded events, interleaved (the order
    turned round every other round, so that a machine growing busier or quieter weighs on
    all alike); the median of each, and what the broker stored for it."""
    Topics(settings).ensure([TopicSpec(SCRATCH, 3)])
    starts, total = preload(settings, count, categories)
    print(f"pre-loaded {total:,} events into {len(starts)} source topics")
    runs: dict[str, list[Result]] = {name: [] for name in CONTENDERS}
    stored: dict[str, dict[str, Batches]] = {}
    for index in range(rounds):
        order = CONTENDERS if index % 2 == 0 else CONTENDERS[::-1]
        for name in order:
            before = batches.ends(settings, _outputs(settings))
            result = _contender(name, settings, starts, total)
            runs[name].append(result)
            print(f"  round {index + 1}: {result.row()}", flush=True)
            if name not in stored:  # the first run of each: the batches do not vary much
                stored[name] = batches.stored(before, batches.ends(settings, _outputs(settings)))
    results = {name: median_of(runs[name]) for name in CONTENDERS}
    print(f"median of {rounds} interleaved run(s) each, {total:,} events:")
    print(
        f"{'contender':<12}{'events/s':>12}{'outputs/s':>14}{'cpu s/1k':>12}{'rss MB':>10}"
        f"{'bank rec/batch':>16}{'audit rec/batch':>17}{'markers':>9}  compression"
    )
    for name, r in results.items():
        kept = stored.get(name, {})
        out = kept.get("bank") or kept.get(SCRATCH) or Batches()
        audit = kept.get("audit") or Batches()
        markers = sum(b.markers for b in kept.values())
        print(
            f"{r.row()}{out.per_batch:>16.1f}{audit.per_batch:>17.1f}{markers:>9}"
            f"  {out.compression}"
        )
    worker, baseline, worker2, passthrough = (results[n] for n in CONTENDERS)
    ratio = worker.events_per_s / baseline.events_per_s if baseline.events_per_s else 0.0
    scaling = worker2.events_per_s / worker.events_per_s if worker.events_per_s else 0.0
    print(
        f"worker / baseline: {ratio:.2f}; two workers / one: {scaling:.2f}; "
        f"worker / passthrough: {worker.events_per_s / passthrough.events_per_s:.3f}"
    )
    print(
        f"(each from the moment all its processes handed over events; the two workers' "
        f"joins took {worker2.settle_s:.1f} s before that)"
    )
    mine = stored.get("worker", {})
    return {
        "events": total,
        "rounds": rounds,
        "source_topics": len(starts),
        "worker_events_per_s": round(worker.events_per_s),
        "worker2_events_per_s": round(worker2.events_per_s),
        "baseline_events_per_s": round(baseline.events_per_s),
        "passthrough_events_per_s": round(passthrough.events_per_s),
        "ratio_to_baseline": round(ratio, 3),
        "two_workers_to_one": round(scaling, 3),
        "worker2_settle_s": round(worker2.settle_s, 1),
        "cpu_s_per_1000_events": round(worker.cpu_s / worker.events * 1000, 3),
        "baseline_cpu_s_per_1000_events": round(baseline.cpu_s / baseline.events * 1000, 3),
        "peak_rss_mb": round(worker.rss_mb),
        "worker_startup_s": round(worker.startup_s, 1),
        "records_per_batch": {k: round(b.per_batch, 1) for k, b in mine.items()},
        "compression": {k: b.compression for k, b in mine.items()},
        "transaction_markers": sum(b.markers for b in mine.values()),
        "runs": {n: [round(r.events_per_s) for r in rs] for n, rs in runs.items()},
    }


def _contender(
    name: str, settings: KafkaSettings, starts: dict[str, list[TopicPartition]], total: int
) -> Result:
    if name == "worker":
        return run_worker(settings, starts, total)
    if name == "worker x2":
        return run_worker(settings, starts, total, processes=2)
    return run_loop(settings, starts, total, passthrough=name == "passthrough")


def _outputs(settings: KafkaSettings) -> dict[str, int]:
    return {
        t: n
        for t, n in Topics(settings).partitions().items()
        if t.startswith(names.BANK_PREFIX) or t in (names.AUDIT, SCRATCH)
    }


def median_of(results: list[Result]) -> Result:
    """The run of median speed (the slower middle one of an even number)."""
    ordered = sorted(results, key=lambda r: r.events_per_s)
    return ordered[(len(ordered) - 1) // 2]


SMALL = 30  # categories of the small catalog the scale run compares with


def bench_scale(settings: KafkaSettings, count: int) -> dict[str, Any]:
    """`make bench SCALE=1`: one worker on events of every category of the catalog against
    the same number of events of SMALL categories, with every topic of the catalog there:
    start-up, memory and throughput.

    Both run under the sample governance plus, for each bank, an agreement granting every
    category no agreement of it names (`<bank>-bench-scale`): a bank topic for every (bank,
    category), over 1,200 of them, as a programme whose four banks all take everything
    would have. Afterwards the sample governance is applied again and the bank topics made
    for the run are deleted, so that later runs and tests meet the stack as it was."""
    catalog = load_catalog()
    folder = get_worker_settings().governance_dir
    before = set(Topics(settings).partitions())
    runs = {}
    with tempfile.TemporaryDirectory(prefix="sharebus-bench-scale-") as tmp:
        wide = Path(tmp) / "governance"
        grants = every_bank_every_category(folder, wide)
        apply_folder(wide, settings)
        print(f"scale governance: {grants} more grants, every bank every category")
        try:
            for label, categories in (("small", SMALL), ("scale", 0)):
                starts, total = preload(settings, count, categories)
                result = run_worker(settings, starts, total)
                runs[label] = (len(starts), total, result)
            topics = Topics(settings).partitions()
        finally:
            apply_folder(folder, settings)
            made = sorted(t for t in set(Topics(settings).partitions()) - before if _is_bank(t))
            Topics(settings).delete(made)
    bank_topics = sum(1 for t in topics if _is_bank(t))
    small, scale = runs["small"][2], runs["scale"][2]
    ratio = scale.events_per_s / small.events_per_s if small.events_per_s else 0.0
    print(f"scale: {len(catalog)} categories, {len(topics):,} topics ({bank_topics} bank topics)")
    print(f"{'catalog':<22}{'events/s':>12}{'start-up s':>12}{'rss MB':>10}")
    for label, (sources, _, r) in runs.items():
        name = f"{label} ({sources - 1} categories)"
        print(f"{name:<22}{r.events_per_s:>12,.0f}{r.startup_s:>12.1f}{r.rss_mb:>10.0f}")
    print(f"throughput at scale / small: {ratio:.2f}")
    print(f"({len(made)} bank topics were made for the scale run, and deleted after it)")
    return {
        "scale": {
            "categories": len(catalog),
            "topics": len(topics),
            "bank_topics": bank_topics,
            "startup_s": round(scale.startup_s, 1),
            "events_per_s": round(scale.events_per_s),
            "peak_rss_mb": round(scale.rss_mb),
            "small_categories": SMALL,
            "small_events_per_s": round(small.events_per_s),
            "small_startup_s": round(small.startup_s, 1),
            "ratio_to_small": round(ratio, 3),
        }
    }


def every_bank_every_category(source: Path, dest: Path) -> int:
    """A copy of the governance folder `source` at `dest`, with an agreement per bank
    granting every category none of its agreements names (its fields but the personal
    ones); how many grants were added."""
    catalog = load_catalog()
    gov = governance_from_dir(source, catalog)
    shutil.copytree(source, dest)
    added = 0
    for bank in gov.active_banks():
        named = {g.category for a in gov.agreements.values() if a.bank == bank for g in a.grants}
        grants = [
            {
                "category": c.id,
                "fields": [f.name for f in c.fields if f.sensitivity != "personal"],
                "retention_days": 7,
            }
            for c in catalog
            if c.id not in named
        ]
        agreement = {
            "kind": "agreement",
            "id": f"{bank}-bench-scale",
            "version": 1,
            "bank": bank,
            "purpose": "bench-scale",
            "status": "active",
            "effective_from": "2026-01-01T00:00:00+08:00",
            "effective_until": "2099-01-01T00:00:00+08:00",
            "grants": grants,
        }
        path = dest / "agreements" / f"{bank}-bench-scale.yaml"
        path.write_text(yaml.safe_dump(agreement, sort_keys=False), "utf-8")
        added += len(grants)
    return added


def _is_bank(topic: str) -> bool:
    return topic.startswith(names.BANK_PREFIX)
