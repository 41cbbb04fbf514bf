"""`sharebus consume`: a bank's events as JSON lines or CSV, each once.

The bank and the categories are checked against the governance in force first. Every
event is written (and flushed) before it is committed; Ctrl-C stops between two events
and commits what was written, so the next run neither loses nor repeats one.
"""

from __future__ import annotations

import csv
import json
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from consumers.events import BankEvent
from foundation.errors import SharebusError, UsageError
from sharebus.cli_common import friendly

if TYPE_CHECKING:
    from consumers.subscriber import Subscriber

err = Console(stderr=True, soft_wrap=True, highlight=False)

CSV_COLUMNS = (
    "kind", "op", "key", "category", "topic", "partition", "offset", "source", "agreement",
    "purpose", "event_id", "changed_at", "published_at", "reason", "governance_version",
    "backfill", "before", "after",
)  # fmt: skip


class Sink:
    """Writes events to a stream; flushed after each, since a commit follows."""

    def __init__(self, stream: IO[str], fmt: str, header: bool) -> None:
        self.stream = stream
        self.fmt = fmt
        self._csv = csv.DictWriter(stream, CSV_COLUMNS) if fmt == "csv" else None
        if self._csv is not None and header:
            self._csv.writeheader()

    def write(self, event: BankEvent) -> None:
        row = event.as_json()
        if self._csv is None:
            self.stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            for name in ("before", "after"):
                value = row[name]
                row[name] = "" if value is None else json.dumps(value, ensure_ascii=False)
            self._csv.writerow(row)
        self.stream.flush()


@contextmanager
def _output(out: Path | None, fmt: str) -> Iterator[Sink]:
    if out is None:
        yield Sink(sys.stdout, fmt, header=True)
        return
    # Appended: the next run goes on where this one stopped.
    fresh = not out.exists() or out.stat().st_size == 0
    with open(out, "a", encoding="utf-8", newline="") as stream:
        yield Sink(stream, fmt, header=fresh)


class Progress:
    """A count and a rate on a terminal (stderr), at most a few times a second."""

    def __init__(self) -> None:
        self.live = err.is_terminal
        self.start = time.monotonic()
        self._shown = 0.0
        self.kinds: Counter[str] = Counter()

    def tick(self, event: BankEvent) -> None:
        self.kinds[event.kind.value] += 1
        now = time.monotonic()
        if self.live and now - self._shown > 0.25:
            self._shown = now
            err.file.write(f"\r{self.line()}")
            err.file.flush()

    def line(self) -> str:
        total = sum(self.kinds.values())
        seconds = max(time.monotonic() - self.start, 1e-9)
        return f"{total} events, {total / seconds:.0f}/s"

    def summary(self, bank: str, dropped: int) -> str:
        parts = ", ".join(f"{n} {k}" for k, n in sorted(self.kinds.items()))
        line = f"{self.line()} from bank {bank}" + (f" ({parts})" if parts else "")
        return line + (f"; {dropped} replayed duplicates dropped" if dropped else "")


@friendly
def consume(
    bank: Annotated[str, typer.Option(help="bank id, e.g. ccb")],
    category: Annotated[
        list[str] | None,
        typer.Option(help="category id (repeatable); every granted one when omitted"),
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="consumer group, starting '<bank>.' [default: <bank>.cli]")
    ] = None,
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning", help="read all retained events again")
    ] = False,
    no_commit: Annotated[
        bool, typer.Option("--no-commit", help="do not move the group on (a look, not a read)")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    out: Annotated[
        Path | None, typer.Option(help="append to this file instead of standard output")
    ] = None,
    max_events: Annotated[
        int | None, typer.Option("--max", min=1, help="stop after N events")
    ] = None,
    idle: Annotated[
        float | None, typer.Option(help="stop after this many seconds without events")
    ] = None,
) -> None:
    """Write a bank's events (changes, retractions, tombstones), each once; Ctrl-C stops."""
    from consumers.grants import check_request, granted_categories, unknown_categories
    from consumers.subscriber import Subscriber
    from foundation.kafka_errors import KafkaAuthError
    from foundation.probe import require
    from schemas.catalog import load_catalog
    from sharebus.governance_log import read_current

    if fmt not in ("jsonl", "csv"):
        raise UsageError(f"--format {fmt}: use jsonl or csv")
    if group is not None and not group.startswith(f"{bank}."):
        raise UsageError(f"a consumer group of bank '{bank}' starts with '{bank}.'")
    catalog = load_catalog()
    unknown = [c for c in category or [] if c not in catalog]
    if unknown:
        # A usage error whether or not Kafka answers; when it does, name what is granted.
        try:
            require(kafka=True)
            granted: list[str] | None = granted_categories(read_current(), bank)
        except SharebusError:
            granted = None
        raise UsageError(unknown_categories(unknown, bank, granted))
    require(kafka=True, registry=True)  # an unreachable or refusing broker, in one line
    try:
        gov = read_current()
    except KafkaAuthError:
        # A bank's own principal may not read the governance (other banks' agreements and
        # consents): its ACLs decide instead, and a refusal says which.
        gov = None
    if gov is not None:
        categories = check_request(gov, bank, category or [], catalog)
    else:
        categories = list(category or [])
    progress = Progress()
    with (
        _output(out, fmt) as sink,
        Subscriber(
            bank,
            group=group or f"{bank}.cli",
            categories=categories,
            from_beginning=from_beginning,
            commit=not no_commit,
        ) as sub,
        _stop_on_sigint(sub),
    ):
        for event in sub.events(idle=idle):
            sink.write(event)
            progress.tick(event)
            if max_events is not None and sum(progress.kinds.values()) >= max_events:
                break
    if progress.live:
        err.file.write("\n")
    err.print(progress.summary(bank, sub.dropped))


@contextmanager
def _stop_on_sigint(sub: Subscriber) -> Iterator[None]:
    """Ctrl-C ends the loop between two events instead of inside one."""

    def stop(signum: int, frame: object) -> None:
        sub.stop()

    previous = signal.signal(signal.SIGINT, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
