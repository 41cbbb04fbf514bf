"""`sharebus demo`: agencies publish, workers enforce the agreements, banks receive.

Everything is real and runs against the local stack: topics are applied, the sample
governance is applied, a `sharebus worker` process is started, every agency publishes
generated records of its categories, and the audit topic is read back into a live
summary of what each bank received and what it was denied, and why. Half way through,
one agreement is suspended and one enterprise's consent revoked; at the end the sample
governance is applied again.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from governance.loader import governance_from_dir
from governance.models import Governance, Status
from governance.reconcile import consent_event
from producers.publisher import Publisher
from schemas import names
from schemas.catalog import load_catalog
from schemas.generate import population, records
from schemas.serde import AvroSerde, registry_client
from sharebus.errors import SharebusError
from sharebus.governance_log import apply_folder, read_current, write
from sharebus.settings import PROJECT_ROOT, get_kafka_settings, get_worker_settings
from sharebus.topics import Topics, desired_topics

POPULATION = 1000  # the sample consents name enterprises of population(1000, seed=7)
REASONS = (
    "not-entrusted",
    "no-agreement",
    "suspended",
    "not-in-window",
    "no-consent",
    "filtered",
    "error",
)


def run_demo(per_category: int, console: Console) -> None:
    kafka = get_kafka_settings()
    settings = get_worker_settings()
    catalog = load_catalog()
    gov = governance_from_dir(settings.governance_dir, catalog)
    topics = Topics(kafka)
    created = topics.ensure(desired_topics(catalog, list(gov.agreements.values())))
    console.print(f"[bold]topics[/bold]: {len(created)} created")
    _, applied = apply_folder(settings.governance_dir, kafka)
    version = applied or read_current(kafka).version
    banks = gov.active_banks()
    console.print(
        f"[bold]governance[/bold] version {version}: {len(gov.entrustments)} entrustments, "
        f"{len(gov.agreements)} agreements, {len(gov.consents)} consents"
    )
    audit_start = _end_offsets(kafka.librdkafka(), names.AUDIT)
    port = _free_port()
    log = settings.data_dir.parent / "demo-worker.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    worker = _start_worker(log, port, banks)
    try:
        _wait_version(port, version, worker, log)
        console.print(f"[bold]worker[/bold] ready, status at http://127.0.0.1:{port}/status")
        tally = Tally(kafka, audit_start, banks)
        people = population(POPULATION, seed=7)
        with Live(tally.render(), console=console, refresh_per_second=4) as live:
            registration = [catalog.get("market.registration")]
            # Profiles first: filters on enterprise.scale need them.
            _publish_each(registration, people, POPULATION, "r", live, tally, seed=7)
            _wait_events(worker, log, live, tally)
            categories = [c for c in catalog if c.id != "market.registration"]
            half = per_category // 2
            _publish_each(categories, people, half, "c", live, tally, seed=1)
            _wait_events(worker, log, live, tally)
            changed = _suspend_and_revoke(gov, kafka, tally)
            live.update(tally.render())
            _wait_version(port, changed, worker, log)
            _publish_each(categories, people, per_category - half, "c", live, tally, seed=2)
            _wait_events(worker, log, live, tally)
        console.line()
        deliveries = sum(tally.delivered.values())
        denials = sum(sum(c.values()) for c in tally.denied.values())
        console.print(
            f"{len(tally.expected):,} events published; {deliveries:,} deliveries; "
            f"{denials:,} denials (every decision is on {names.AUDIT})"
        )
    finally:
        _, restored = apply_folder(settings.governance_dir, kafka)
        console.print(f"sample governance applied again (version {restored})")
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


class Tally:
    """Counts the audit topic: per bank, deliveries and denials by reason."""

    def __init__(self, kafka: Any, start: list[TopicPartition], banks: list[str]) -> None:
        self.banks = banks
        self.serde = AvroSerde(registry_client(kafka.registry()))
        self.consumer = Consumer(
            {**kafka.librdkafka(), "group.id": "sharebus-demo-tally", "enable.auto.commit": False}
        )
        self.consumer.assign(start)
        self.delivered: Counter[str] = Counter()
        self.denied: dict[str, Counter[str]] = {b: Counter() for b in banks}
        self.notes: list[str] = []
        self.changes: list[str] = []  # governance changes made during the run, always shown
        self.expected: set[str] = set()
        self.seen: set[str] = set()

    def read(self) -> None:
        while True:
            batch = self.consumer.consume(2000, 0.3)
            if not batch:
                return
            for msg in batch:
                if msg.error() or msg.value() is None:
                    continue
                raw_id = dict(msg.headers() or []).get("ce_id")
                event_id = raw_id.decode() if isinstance(raw_id, bytes) else ""
                if event_id not in self.expected:
                    continue  # another run's event, reprocessed or late
                _, d = self.serde.decode(msg.value())
                self.seen.add(d["event_id"])
                if d["decision"] == "delivered":
                    self.delivered[d["bank"]] += 1
                else:
                    self.denied[d["bank"]][d["reason"]] += 1

    def render(self) -> Group:
        table = Table(title="sharebus demo: what each bank got, from the audit topic")
        table.add_column("bank")
        table.add_column("delivered", justify="right")
        table.add_column("denied", justify="right")
        table.add_column("why denied")
        for bank in self.banks:
            denied = self.denied[bank]
            why = ", ".join(f"{r} {denied[r]:,}" for r in REASONS if denied[r])
            table.add_row(bank, f"{self.delivered[bank]:,}", f"{sum(denied.values()):,}", why)
        return Group(table, *self.changes, *self.notes[-8:])


def _publish_each(
    categories: list[Any],
    people: list[Any],
    count: int,
    op: str,
    live: Live,
    tally: Tally,
    seed: int,
) -> None:
    by_agency: dict[str, list[Any]] = {}
    for cat in categories:
        by_agency.setdefault(cat.agency, []).append(cat)
    for agency, cats in by_agency.items():
        with Publisher(agency=agency, system="demo") as pub:
            for cat in cats:
                for record in records(cat, people, count, seed=seed):
                    tally.expected.add(pub.publish(cat.id, op, record["uscc"], after=record))
        tally.notes.append(
            f"agency {agency}: published {pub.delivered:,} records of {len(cats)} categories"
        )
        tally.read()
        live.update(tally.render())


def _suspend_and_revoke(gov: Governance, kafka: Any, tally: Tally) -> int:
    """Suspend ccb's agreement and revoke one spdb consent, as an operator would."""
    ccb = next(a for a in gov.agreements.values() if a.bank == "ccb")
    now = datetime.now(UTC)
    # From the ledger in force: a consent revoked by an earlier run stays revoked.
    live = read_current(kafka)
    consent = next(c for c in live.consents.values() if c.bank == "spdb" and c.covers_any(now))
    grant = live.consent_grants.get(consent.key)
    revoke = consent_event(
        "revoke", consent, grant.grant_id if grant else "", "demo", now, "demo revocation"
    )
    version = write(
        [ccb.model_copy(update={"status": Status.suspended}), revoke],
        kafka,
        source="demo: suspend ccb, revoke one spdb consent",
    )
    tally.changes.append(
        f"[yellow]governance version {version}: agreement {ccb.id} suspended, "
        f"consent spdb:{consent.uscc} revoked[/yellow]"
    )
    return version


def _start_worker(log: Path, port: int, banks: list[str]) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["SHAREBUS_WORKER_WEB_PORT"] = str(port)
    env.setdefault("SHAREBUS_WORKER_APP_ID", "sharebus-demo")
    if "SHAREBUS_WORKER_MASK_KEYS" not in env:
        # Fresh per-bank keys for this run: hashes join within a bank, never across banks.
        env["SHAREBUS_WORKER_MASK_KEYS"] = json.dumps({b: secrets.token_hex(32) for b in banks})
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "sharebus.cli", "worker"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
            env=env,
        )


def worker_status(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as resp:
            body: dict[str, Any] = json.loads(resp.read())
            return body
    except (OSError, ValueError):
        return None


def _wait_version(port: int, version: int, worker: subprocess.Popen[bytes], log: Path) -> None:
    _wait(
        port,
        lambda s: s["governance_ready"] and s["governance_version"] >= version,
        worker,
        log,
        120,
    )


def _wait_events(worker: subprocess.Popen[bytes], log: Path, live: Live, tally: Tally) -> None:
    """Until the audit has a decision for every event published so far."""
    deadline = time.monotonic() + 300
    while tally.seen < tally.expected:
        if worker.poll() is not None:
            raise SharebusError(f"the worker exited with code {worker.returncode}; see {log}")
        if time.monotonic() > deadline:
            missing = len(tally.expected - tally.seen)
            raise SharebusError(f"{missing} events not decided within 300s; see {log}")
        tally.read()
        live.update(tally.render())


def _wait(port: int, ok: Any, worker: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SharebusError(f"the worker exited with code {worker.returncode}; see {log}")
        status = worker_status(port)
        if status is not None and ok(status):
            return
        time.sleep(0.5)
    raise SharebusError(f"the worker did not catch up within {timeout:.0f}s; see {log}")


def _end_offsets(conf: dict[str, Any], topic: str) -> list[TopicPartition]:
    consumer = Consumer({**conf, "group.id": "sharebus-demo-tally"})
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        return [
            TopicPartition(
                topic, p, consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            )
            for p in meta.partitions
        ]
    finally:
        consumer.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
