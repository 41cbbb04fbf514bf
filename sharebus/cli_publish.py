"""`sharebus publish` and `sharebus generate`: the agency side from the command line."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from foundation.errors import SharebusError, UsageError
from foundation.probe import require
from producers.coerce import to_json
from producers.errors import PublishError
from producers.files import (
    FORMATS,
    Line,
    check_encoding,
    detect_format,
    open_input,
    read_lines,
    rejects_path,
)
from producers.ids import event_id
from producers.ledger import Ledger, Rejects
from producers.publisher import Publisher
from schemas.catalog import load_catalog
from sharebus.cli_common import fail, friendly

err = Console(stderr=True, soft_wrap=True)


class Report:
    """Progress on a terminal (bar and rate), plain lines otherwise; then a summary."""

    def __init__(self, console: Console, label: str, every: int = 10_000) -> None:
        self.console = console
        self.every = every
        self.started = time.monotonic()
        self.progress: Progress | None = None
        if console.is_terminal:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed:,} lines"),
                TextColumn("{task.fields[rate]:,.0f}/s"),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self.task = self.progress.add_task(label, total=None, rate=0.0)
            self.progress.start()

    def advance(self, done: int) -> None:
        rate = done / max(time.monotonic() - self.started, 1e-6)
        if self.progress is not None:
            self.progress.update(self.task, completed=done, rate=rate)
        elif done % self.every == 0:
            self.console.print(f"read {done:,} lines ({rate:,.0f}/s)", highlight=False)

    def close(self) -> float:
        if self.progress is not None:
            self.progress.stop()
        return time.monotonic() - self.started


@friendly
def publish(
    file: Annotated[str, typer.Argument(help="JSON lines or CSV file; '-' for stdin")],
    agency: Annotated[
        str, typer.Option(help="publishing agency, e.g. tax", envvar="SHAREBUS_AGENCY")
    ],
    category: Annotated[str, typer.Option(help="category id, e.g. tax.payment-record")],
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl or csv (default: from the file name)")
    ] = None,
    op: Annotated[str, typer.Option(help="op for lines that do not say (c, u, r, d)")] = "c",
    system: Annotated[str, typer.Option(help="the agency system, for provenance")] = "sharebus-cli",
    encoding: Annotated[
        str, typer.Option(help="the file's encoding: utf-8, gb18030, gbk, ...")
    ] = "utf-8",
    as_json: Annotated[
        bool, typer.Option("--json", help="the summary as one JSON object on stdout")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(min=0.5, help="seconds to wait at the end for the broker's confirmations"),
    ] = 60.0,
) -> None:
    """Publish an agency's records; invalid lines go to a rejects file next to the input.

    Each line's event id is derived from the line (or is its own `event_id`), so running
    the same file again sends the same ids: a stop with deliveries unknown is re-run."""
    fmt = detect_format(file, fmt)
    if fmt not in FORMATS:
        raise UsageError(f"unknown input format '{fmt}': use jsonl or csv")
    check_encoding(encoding)
    cat = load_catalog().get(category)
    if cat.agency != agency:
        raise PublishError(
            f"category '{category}' belongs to agency '{cat.agency}', not '{agency}'"
        )
    require(kafka=True, registry=True)
    _interruptible()
    rejects = Rejects(rejects_path(file))
    ledger = Ledger(rejects)
    report = Report(err, f"publishing {category}")
    stopped: str | None = None
    try:
        with open_input(file) as stream:
            pub = Publisher(agency=agency, system=system, on_delivery=ledger.on_delivery)
            try:
                for line in read_lines(stream, fmt, cat, op, encoding):
                    if ledger.fatal:
                        break
                    problem = line.problem or _send(pub, agency, category, line, ledger)
                    if problem:
                        rejects.add(line.number, line.text, problem)
                    ledger.handled(line.number)
                    report.advance(line.number)
            except SharebusError as exc:
                stopped = str(exc)
            except KeyboardInterrupt:
                stopped = "interrupted"
            # A Ctrl-C stops the reading; what was sent is still waited for, unless a
            # second Ctrl-C says not to. Either way the summary says where things stand.
            for _ in range(2):
                try:
                    pub.flush(timeout)
                    break
                except PublishError as exc:
                    # Per-record refusals are rejected lines already; anything else stops.
                    if ledger.fatal is None and stopped is None:
                        stopped = str(exc)
                    break
                except KeyboardInterrupt:
                    stopped = stopped or "interrupted"
    finally:
        took = report.close()
        rejects.close()
    stopped = stopped or ledger.fatal
    _summarise(category, file, ledger, took, stopped, as_json)
    if stopped or rejects.count:
        raise typer.Exit(1)


def _interruptible() -> None:
    """Ctrl-C (or `kill -INT`) stops the reading even when whatever started this command
    ignored SIGINT, as a script's background job or a CI runner does: Python then raises no
    KeyboardInterrupt, and a publish reading a pipe never ended."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _send(pub: Publisher, agency: str, category: str, line: Line, ledger: Ledger) -> str | None:
    event = line.event
    assert event is not None
    # Known before sending (a delivery report may come back at once), and the same on
    # every run of this input: the line number keeps a change back to an earlier state
    # apart from the line that first set it (see producers/ids.py).
    ce_id = event.event_id or event_id(
        agency, category, event.uscc, event.op, event.before, event.after, line.number
    )
    ledger.sent(ce_id, line.number, line.text)
    try:
        pub.publish(
            category,
            event.op,
            event.uscc,
            before=event.before,
            after=event.after,
            event_id=ce_id,
        )
    except PublishError as exc:
        ledger.unsent(ce_id)
        return str(exc)
    except BaseException:
        ledger.unsent(ce_id)
        raise
    return None


def _summarise(
    category: str, file: str, ledger: Ledger, took: float, stopped: str | None, as_json: bool
) -> None:
    rejects = ledger.rejects
    if as_json:
        summary = {
            "category": category,
            "file": file,
            "delivered": ledger.delivered,
            "unconfirmed": ledger.unconfirmed,
            "rejected": rejects.count,
            "rejects_file": str(rejects.path) if rejects.count else None,
            "seconds": round(took, 3),
            "stopped": stopped,
            "last_delivered_line": ledger.last_delivered or None,
            "settled_through_line": ledger.settled_through,
        }
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
    if stopped:
        fail(f"publishing stopped: {stopped}")
        err.print(
            f"confirmed {ledger.delivered:,} lines, the last of them line "
            f"{ledger.last_delivered:,}; unknown {ledger.unconfirmed:,} (sent, not confirmed: "
            f"they may have arrived); every line up to {ledger.settled_through:,} was "
            f"delivered or rejected: resume after line {ledger.settled_through:,}",
            highlight=False,
        )
        err.print(
            "re-running the whole file is safe: each line is sent again with the same event "
            "id (ce_id), so a repeat is recognisable by it; nothing on the bus drops repeats "
            "by id, so a bank handler that writes by key (or skips known event ids) is "
            "unaffected",
            highlight=False,
        )
    elif not as_json:
        rate = ledger.delivered / max(took, 1e-6)
        err.print(
            f"published {ledger.delivered:,} records of {category} in {took:.1f}s "
            f"({rate:,.0f} records/s), all delivered; rejected {rejects.count:,}",
            highlight=False,
        )
    if rejects.count:
        err.print(f"rejected lines with their reasons: {rejects.path}", highlight=False)


@friendly
def generate(
    category: Annotated[str, typer.Option(help="category id, e.g. tax.payment-record")],
    count: Annotated[int, typer.Option(min=0, help="how many records")] = 100,
    seed: Annotated[int, typer.Option(help="same seed, same records")] = 7,
    enterprises: Annotated[
        int, typer.Option(min=1, help="size of the enterprise population")
    ] = 1000,
    out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
) -> None:
    """Write realistic synthetic records of a category as JSON lines (for `sharebus publish`)."""
    from synthetic.generate import population, records

    cat = load_catalog().get(category)
    people = population(enterprises, seed=seed)
    with ExitStack() as files:
        try:
            target = files.enter_context(open(out, "w", encoding="utf-8")) if out else sys.stdout
            for record in records(cat, people, count, seed=seed):
                target.write(to_json(record) + "\n")
        except OSError as exc:
            raise PublishError(f"cannot write {out or 'stdout'}: {exc.strerror or exc}") from exc
    if out:
        err.print(f"wrote {count:,} records of {category} to {out}", highlight=False)
