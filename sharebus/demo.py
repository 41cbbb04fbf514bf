"""`sharebus demo`: the programme for a minute, against the real (secured) stack.

The eight agencies publish generated records at uneven rates (`demo_traffic`), worker
processes enforce the agreements, the four banks read through the subscriber SDK
(`demo_banks`), and the audit is read back (`demo_tally`). Mid-way a consent is revoked,
an agreement suspended and reinstated, and a late agreement activated and backfilled
(`demo_scene`). It ends with a report (`demo_report`) and stops what it started, on
Ctrl-C and on an error too.

Run twice, or on a used stack, it shows the same picture. Each run has its own id, its
own worker group and bank groups, and those groups start at the present end of their
topics: a worker of a fresh group would otherwise fan all of the sources' history out
into the bank topics again, and banks would count earlier runs' records. (The fixed
`sharebus-worker` group would avoid the re-fan only once it had run: on a stack where it
never ran it begins at the earliest offset too, and it is the operator's.) The report
counts this run's events only: by their ids (`<run id>-<n>`) and the audit chains of the
run's group; the backfill, by its agreement.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from foundation.errors import SharebusError
from foundation.settings import (
    PROJECT_ROOT,
    KafkaSettings,
    WorkerSettings,
    get_kafka_settings,
    get_worker_settings,
)
from governance.loader import governance_from_dir
from governance.models import Status
from governance.topics import Topics, desired_topics
from schemas import names
from schemas.catalog import load_catalog
from sharebus import demo_scene as scene
from sharebus.demo_banks import KINDS, BankReader, delete_groups, start_at_end
from sharebus.demo_report import print_report, write_report
from sharebus.demo_tally import AuditTally
from sharebus.demo_traffic import AGENCY_SHARE, Traffic
from sharebus.demo_view import View
from sharebus.governance_log import apply_folder, read_current
from sharebus.principals import agency_principal, bank_principal
from synthetic.generate import population

POPULATION = 1000  # the sample consents name enterprises of population(1000, seed=7)
WORKER_PRINCIPAL = "sharebus-worker"
# When each governance change happens, as a share of the run.
REVOKE_AT, SUSPEND_AT, ONBOARD_AT, REINSTATE_AT = 0.2, 0.35, 0.5, 0.65
DRAIN_SECONDS = 90.0


@dataclass(frozen=True)
class DemoOptions:
    seconds: float = 60.0
    rate: float = 40.0  # events a second, all agencies together
    enterprises: int = 1000
    workers: int = 1
    out: Path = PROJECT_ROOT / ".stack" / "demo"
    live: bool = True  # rich Live on a terminal; plain lines otherwise


def as_party(kafka: KafkaSettings, user: str) -> KafkaSettings:
    """`kafka` as the party's own principal where its password is known (the local stack
    after `principals apply`); else as the demo's own principal."""
    if not kafka.uses_sasl:
        return kafka
    party = kafka.as_principal(user)
    return party if party.sasl_password is not None else kafka


class Demo:
    """One run: its groups, processes and threads, and everything it counts."""

    def __init__(self, options: DemoOptions, console: Console) -> None:
        self.options = options
        self.console = console
        self.kafka = get_kafka_settings()
        self.settings = get_worker_settings()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.run_id = f"demo-{stamp}-{uuid.uuid4().hex[:4]}"
        self.group = f"{WORKER_PRINCIPAL}-{self.run_id}"
        self.folder = options.out / self.run_id
        self.timeline: list[str] = []
        self.workers: list[tuple[subprocess.Popen[bytes], int]] = []
        self.readers: dict[str, BankReader] = {}
        self.traffic: Traffic | None = None
        self.tally: AuditTally | None = None
        self.backfill: dict[str, Any] = {}
        self.t0 = time.monotonic()  # the timeline's zero
        self.clock = self.t0  # when the agencies started: the cues' zero
        self.mask_keys: dict[str, str] = {}

    def note(self, text: str) -> None:
        self.timeline.append(f"{time.monotonic() - self.t0:5.1f}s {text}")

    # ---- setting up -----------------------------------------------------------------

    def prepare(self) -> tuple[int, list[str]]:
        """Topics and the sample governance; the version in force and the banks."""
        catalog = load_catalog()
        gov = governance_from_dir(self.settings.governance_dir, catalog)
        Topics(self.kafka).ensure(desired_topics(catalog, list(gov.agreements.values())))
        _, applied = apply_folder(self.settings.governance_dir, self.kafka)
        version = applied or read_current(self.kafka).version
        banks = gov.active_banks()
        # Fresh per-bank keys for this run: hashes join within a bank, never across banks.
        self.mask_keys = {b: secrets.token_hex(32) for b in banks}
        start_at_end(self.kafka, self.group, names.SOURCE_PREFIX)
        for bank in banks:
            start_at_end(self.kafka, self._bank_group(bank), f"{names.BANK_PREFIX}{bank}.")
        return version, banks

    def _bank_group(self, bank: str) -> str:
        return f"{bank}.{self.run_id}"

    def start_workers(self, version: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["SHAREBUS_WORKER_APP_ID"] = self.group
        env["SHAREBUS_WORKER_MASK_KEYS"] = json.dumps(self.mask_keys)
        if as_party(self.kafka, WORKER_PRINCIPAL) is not self.kafka:
            env["SHAREBUS_SASL_USERNAME"] = WORKER_PRINCIPAL
        for i in range(self.options.workers):
            port = _free_port()
            env["SHAREBUS_WORKER_WEB_PORT"] = str(port)
            env["SHAREBUS_WORKER_DATA_DIR"] = str(self.folder / f"worker-{i}")
            with open(self.folder / f"worker-{i}.log", "ab") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "sharebus.cli", "worker"],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=PROJECT_ROOT,
                    env=env,
                )
            self.workers.append((proc, port))
        deadline = time.monotonic() + 120
        for _, port in self.workers:
            while not _ready(port, version):
                self.check()
                if time.monotonic() > deadline:
                    raise SharebusError(f"the workers did not start within 120s; see {self.folder}")
                time.sleep(0.5)
        self.note(f"{len(self.workers)} worker(s) in group {self.group}")

    def check(self) -> None:
        """Stop the run, in one line, when a part of it has failed."""
        for proc, _ in self.workers:
            if proc.poll() is not None:
                raise SharebusError(
                    f"a worker exited with code {proc.returncode}; see {self.folder}"
                )
        errors = [r.error for r in self.readers.values() if r.error]
        if self.traffic is not None and self.traffic.error:
            errors.append(self.traffic.error)
        if errors:
            raise SharebusError(errors[0])

    # ---- counting ---------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        assert self.tally is not None and self.traffic is not None
        tally = self.tally
        banks: dict[str, dict[str, Any]] = {}
        for bank, reader in self.readers.items():
            got = {k: reader.counts[k] for k in KINDS}
            last = max(reader.series, default=-1)
            banks[bank] = {
                "handler": got,
                "other": reader.other,
                "audit_delivered": tally.delivered[bank],
                "audit_backfilled": tally.backfilled[bank],
                "audit_retracted": tally.retracted[bank],
                "denied": dict(tally.denied[bank]),
                "matched": got["change"] == tally.delivered[bank]
                and got["backfill"] == tally.backfilled[bank]
                and reader.other == 0,
                "per_second": [reader.series[s] for s in range(last + 1)],
            }
        return {
            "run_id": self.run_id,
            "seconds": self.options.seconds,
            "worker_group": self.group,
            "published": {a: self.traffic.published[a] for a in AGENCY_SHARE},
            "published_total": self.traffic.total,
            "delivered_total": sum(tally.delivered.values()),
            "denied_total": sum(tally.denials().values()),
            "denials": dict(tally.denials()),
            "retractions_total": sum(b["handler"]["retraction"] for b in banks.values()),
            "backfilled_total": sum(b["handler"]["backfill"] for b in banks.values()),
            "backfill": self.backfill,
            "banks": banks,
            "matched": all(b["matched"] for b in banks.values()),
            "timeline": self.timeline,
        }

    def caught_up(self) -> bool:
        assert self.tally is not None and self.traffic is not None
        if len(self.tally.decided) < self.traffic.total:
            return False
        if self.backfill.get("running"):
            return False
        return all(s["matched"] for s in self.summary()["banks"].values())

    # ---- stopping -----------------------------------------------------------------------

    def stop(self, scene_: scene.Scene | None) -> None:
        """Stop everything the run started; each step even when another failed."""
        groups = [self.group, *(self._bank_group(b) for b in self.readers)]
        steps: list[Callable[[], object]] = []
        if self.traffic is not None:
            steps.append(self.traffic.stop)
        if scene_ is not None:
            steps.append(lambda: self.note(scene_.restore(self.settings.governance_dir)))
        steps += [reader.stop for reader in self.readers.values()]
        steps.append(self._stop_workers)
        if self.tally is not None:
            steps.append(self.tally.close)
        steps.append(lambda: delete_groups(self.kafka, groups))
        for step in steps:
            try:
                step()
            except Exception as exc:
                self.console.print(f"while stopping: {exc}", highlight=False)

    def _stop_workers(self) -> None:
        for proc, _ in self.workers:
            proc.terminate()
        for proc, _ in self.workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run_demo(options: DemoOptions, console: Console) -> Path:
    """Run the demo; the HTML report's path. Raises SharebusError when the banks' handlers
    and the audit disagree (the report is written first)."""
    demo = Demo(options, console)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    the_scene: scene.Scene | None = None
    try:
        version, banks = demo.prepare()
        console.print(f"demo run {demo.run_id}: topics and the sample governance in force")
        demo.start_workers(version)
        people = population(POPULATION, seed=7)[: options.enterprises]
        demo.traffic = Traffic(
            demo.run_id,
            options.rate,
            people,
            load_catalog(),
            lambda agency: as_party(demo.kafka, agency_principal(agency)),
        )
        demo.tally = AuditTally(demo.kafka, demo.run_id, demo.group, banks)
        reading = time.monotonic()
        for bank in banks:
            settings = as_party(demo.kafka, bank_principal(bank))
            reader = BankReader(bank, demo._bank_group(bank), settings, demo.run_id, reading)
            demo.readers[bank] = reader
            reader.start()
        the_scene = scene.Scene(demo.kafka, {p.uscc for p in people})
        demo.note(f"market regulation: {demo.traffic.snapshot():,} registrations (profiles)")
        demo.clock = time.monotonic()
        demo.traffic.start()
        _simulate(demo, the_scene)
        summary = demo.summary()
    finally:
        demo.stop(the_scene)
        signal.signal(signal.SIGTERM, previous)
    page = write_report(summary, options.out)
    print_report(summary, page, console)
    if not summary["matched"]:
        raise SharebusError(f"the banks' handlers and the audit differ; see {page}")
    return page


def _simulate(demo: Demo, the_scene: scene.Scene) -> None:
    """The run's clock: governance changes on cue, the view refreshed, then the drain."""
    assert demo.tally is not None and demo.traffic is not None
    seconds = demo.options.seconds

    def status(agreement: str, to: Status, verb: str) -> Callable[[], None]:
        return lambda: demo.note(the_scene.set_status(agreement, to, verb))

    def suspension_shown() -> bool:
        # The workers decide by the governance they have read when they take an event: a
        # busy machine's workers may run seconds behind the agencies, and a reinstatement
        # written on the clock alone could reach them before any event of the suspension.
        assert demo.tally is not None
        return demo.tally.denied[scene.SUSPENDED_BANK]["suspended"] > 0

    cues: list[tuple[float, Callable[[], None], Callable[[], bool]]] = [
        (REVOKE_AT, lambda: demo.note(the_scene.revoke()), _always),
        (SUSPEND_AT, status(scene.SUSPENDED, Status.suspended, "suspended"), _always),
        (ONBOARD_AT, lambda: _onboard_late(demo, the_scene), _always),
        (REINSTATE_AT, status(scene.SUSPENDED, Status.active, "reinstated"), suspension_shown),
    ]
    view = View(demo)
    with view:
        while (elapsed := time.monotonic() - demo.clock) < seconds:
            demo.check()
            while cues and elapsed >= cues[0][0] * seconds and cues[0][2]():
                cues.pop(0)[1]()
            demo.tally.read()
            view.refresh()
        demo.traffic.stop()
        for _, late, _ in cues:  # a suspension no event met yet ends with the traffic
            late()
        demo.note(f"agencies stopped: {demo.traffic.total:,} events published")
        deadline = time.monotonic() + DRAIN_SECONDS
        while not demo.caught_up() and time.monotonic() < deadline:
            demo.check()
            demo.tally.read()
            view.refresh()
        demo.note("all decided and received" if demo.caught_up() else "gave up waiting")


def _always() -> bool:
    return True


def _onboard_late(demo: Demo, the_scene: scene.Scene) -> None:
    """Activate the late agreement, then backfill it in a thread (the clock goes on)."""
    assert demo.tally is not None
    demo.note(the_scene.set_status(scene.LATE, Status.active, "activated (signed late)"))
    demo.tally.backfill_agreement = scene.LATE
    demo.backfill.update({"agreement": scene.LATE, "running": True})
    worker = WorkerSettings(mask_keys=dict(demo.mask_keys))

    def run() -> None:
        lines: list[str] = []
        try:
            tallies = the_scene.backfill(worker, lines)
            current = sum(t.current for t in tallies.values())
            delivered = sum(t.delivered for t in tallies.values())
            demo.backfill.update({"current": current, "delivered": delivered})
            demo.note(f"backfill {scene.LATE}: {delivered:,} of {current:,} current records")
        except Exception as exc:
            demo.note(f"backfill failed: {exc}")
        finally:
            demo.backfill["running"] = False

    threading.Thread(target=run, name="demo-backfill", daemon=True).start()


def _ready(port: int, version: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as resp:
            status = json.loads(resp.read())
    except (OSError, ValueError):
        return False
    return bool(status.get("governance_ready")) and status.get("governance_version", 0) >= version


def _free_port() -> int:
    from sharebus.worker_start import any_free_port

    return any_free_port()


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt
