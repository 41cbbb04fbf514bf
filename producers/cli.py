"""`sharebus publish` and `sharebus generate`: the agency side from the command line."""

from __future__ import annotations

import json
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from producers.coerce import to_json
from producers.errors import PublishError
from producers.files import Line, detect_format, open_input, read_lines, rejects_path
from producers.publisher import Publisher
from schemas.catalog import load_catalog
from sharebus.cli_common import friendly

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
) -> None:
    """Publish an agency's records; invalid lines go to a rejects file next to the input."""
    catalog = load_catalog()
    cat = catalog.get(category)
    if cat.agency != agency:
        raise PublishError(
            f"category '{category}' belongs to agency '{cat.agency}', not '{agency}'"
        )
    rejects_file = rejects_path(file)
    rejected = 0
    accepted = 0
    report = Report(err, f"publishing {category}")
    rejects: TextIO | None = None
    try:
        with ExitStack() as files:
            stream = files.enter_context(open_input(file))
            pub = files.enter_context(Publisher(agency=agency, system=system))
            for n, line in enumerate(read_lines(stream, detect_format(file, fmt), cat, op), 1):
                problem = line.problem or _send(pub, category, line)
                if problem:
                    if rejects is None:
                        rejects = files.enter_context(open(rejects_file, "w", encoding="utf-8"))
                    rejects.write(_reject(line, problem) + "\n")
                    rejected += 1
                else:
                    accepted += 1
                report.advance(n)
    finally:
        took = report.close()
    rate = accepted / max(took, 1e-6)
    err.print(
        f"published {accepted:,} records of {category} in {took:.1f}s ({rate:,.0f} records/s), "
        f"all delivered; rejected {rejected:,}",
        highlight=False,
    )
    if rejected:
        err.print(f"rejected lines with their reasons: {rejects_file}", highlight=False)
        raise typer.Exit(1)
    rejects_file.unlink(missing_ok=True)


def _send(pub: Publisher, category: str, line: Line) -> str | None:
    event = line.event
    assert event is not None
    try:
        pub.publish(category, event.op, event.uscc, before=event.before, after=event.after)
    except PublishError as exc:
        return str(exc)
    return None


def _reject(line: Line, reason: str) -> str:
    return json.dumps(
        {"line": line.number, "text": line.text, "reason": reason}, ensure_ascii=False
    )


@friendly
def generate(
    category: Annotated[str, typer.Option(help="category id, e.g. tax.payment-record")],
    count: Annotated[int, typer.Option(help="how many records")] = 100,
    seed: Annotated[int, typer.Option(help="same seed, same records")] = 7,
    enterprises: Annotated[int, typer.Option(help="size of the enterprise population")] = 1000,
    out: Annotated[Path | None, typer.Option(help="write here instead of stdout")] = None,
) -> None:
    """Write realistic synthetic records of a category as JSON lines (for `sharebus publish`)."""
    from schemas.generate import population, records

    cat = load_catalog().get(category)
    people = population(enterprises, seed=seed)
    with ExitStack() as files:
        target = files.enter_context(open(out, "w", encoding="utf-8")) if out else sys.stdout
        for record in records(cat, people, count, seed=seed):
            target.write(to_json(record) + "\n")
    if out:
        err.print(f"wrote {count:,} records of {category} to {out}", highlight=False)
