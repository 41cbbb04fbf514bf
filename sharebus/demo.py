"""`sharebus demo`: agencies publish, a worker enforces the agreements, banks receive.

It runs the real parts against the running stack: topics are created, a `sharebus
worker` process is started, generated records are published through the SDK, and the
banks' topics are read back, with a live summary of what each side did.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from consumers.subscriber import Subscriber
from governance.loader import load_dir
from producers.publisher import Publisher
from schemas.catalog import load_catalog
from schemas.generate import population, records
from sharebus.errors import SharebusError
from sharebus.settings import PROJECT_ROOT, get_kafka_settings, get_worker_settings
from sharebus.topics import Topics, source_spec, system_specs

DEMO_CATEGORIES = ("tax.payment-record",)


def run_demo(count: int, console: Console) -> None:
    kafka = get_kafka_settings()
    worker_settings = get_worker_settings()
    agreements = load_dir(worker_settings.governance_dir)
    banks = sorted({a.bank for a in agreements})
    created = Topics(kafka).ensure([source_spec(c) for c in DEMO_CATEGORIES] + system_specs())
    console.print(
        f"[bold]topics[/bold]: {len(created)} created; governance: "
        f"{len(agreements)} agreement(s) for {', '.join(banks)}"
    )

    worker_log = worker_settings.data_dir.parent / "demo-worker.log"
    worker_log.parent.mkdir(parents=True, exist_ok=True)
    worker = _start_worker(worker_log)
    try:
        published = _publish(count, console)
        _receive(banks, published, worker, worker_log, console)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()


def _start_worker(log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "sharebus.cli", "worker"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )


def _publish(count: int, console: Console) -> dict[str, str]:
    """Publish `count` records per demo category; return event id -> category."""
    catalog = load_catalog()
    people = population(500, seed=int(time.time()))
    published: dict[str, str] = {}
    started = time.monotonic()
    by_agency: dict[str, list[str]] = {}
    for category in DEMO_CATEGORIES:
        by_agency.setdefault(catalog.get(category).agency, []).append(category)
    for agency, categories in by_agency.items():
        with Publisher(agency=agency, system="demo-generator") as pub:
            for category in categories:
                for record in records(catalog.get(category), people, count, seed=len(published)):
                    event_id = pub.publish(category, "c", record["uscc"], after=record)
                    published[event_id] = category
        console.print(
            f"[bold]agency {agency}[/bold]: published {pub.delivered} records "
            f"of {', '.join(categories)}"
        )
    took = time.monotonic() - started
    console.print(
        f"published {len(published)} records in {took:.1f}s ({len(published) / took:,.0f}/s)"
    )
    return published


def _receive(
    banks: list[str],
    published: dict[str, str],
    worker: subprocess.Popen[bytes],
    worker_log: Path,
    console: Console,
) -> None:
    received: Counter[str] = Counter()
    fields_seen: dict[str, set[str]] = {b: set() for b in banks}
    subscribers = {b: Subscriber(b, group=f"{b}.demo-{int(time.time())}") for b in banks}
    deadline = time.monotonic() + 120
    started = time.monotonic()

    def table() -> Table:
        t = Table(title="sharebus demo: what each bank received")
        t.add_column("bank")
        t.add_column("records", justify="right")
        t.add_column("fields received")
        for b in banks:
            t.add_row(b, str(received[b]), ", ".join(sorted(fields_seen[b])) or "-")
        return t

    try:
        with Live(table(), console=console, refresh_per_second=4) as live:
            while time.monotonic() < deadline:
                if worker.poll() is not None:
                    raise SharebusError(
                        f"the worker exited with code {worker.returncode}; see {worker_log}"
                    )
                for bank, sub in subscribers.items():
                    for event in sub.events(timeout=0.5):
                        if event.headers.get("ce_id") in published and event.value is not None:
                            received[bank] += 1
                            fields_seen[bank].update(event.value["after"] or {})
                live.update(table())
                if all(received[b] >= len(published) for b in banks):
                    break
    finally:
        for sub in subscribers.values():
            sub.close()
    took = time.monotonic() - started
    for bank in banks:
        console.print(
            f"[bold]bank {bank}[/bold]: received {received[bank]} of {len(published)} "
            f"records in {took:.1f}s"
        )
    if any(received[b] < len(published) for b in banks):
        raise SharebusError(f"not every record reached the banks within 120s; see {worker_log}")
