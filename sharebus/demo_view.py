"""What a demo run shows while it runs: a live table on a terminal (rich `Live`), plain
progress lines elsewhere (CI, a pipe, a log file: no escape codes, no line cut by a
terminal width that does not exist)."""

from __future__ import annotations

import time
from collections import Counter, deque
from typing import TYPE_CHECKING, Any

from confluent_kafka.admin import AdminClient
from rich.console import Group
from rich.live import Live
from rich.table import Table

from schemas import names
from sharebus.demo_banks import lag
from sharebus.demo_report import bank_table, denial_table
from sharebus.demo_tally import end_offsets
from sharebus.demo_traffic import AGENCY_SHARE

if TYPE_CHECKING:
    from sharebus.demo import Demo

PLAIN_EVERY = 5.0  # seconds between two progress lines off a terminal


class Rates:
    """Events per second per agency, over the last few samples."""

    def __init__(self, window: int = 5) -> None:
        self._samples: deque[tuple[float, Counter[str]]] = deque(maxlen=window)

    def add(self, at: float, published: Counter[str]) -> None:
        self._samples.append((at, Counter(published)))

    def per_second(self) -> dict[str, float]:
        if len(self._samples) < 2:
            return dict.fromkeys(AGENCY_SHARE, 0.0)
        (t0, first), (t1, last) = self._samples[0], self._samples[-1]
        span = max(t1 - t0, 1e-6)
        return {a: (last[a] - first[a]) / span for a in AGENCY_SHARE}


def render(summary: dict[str, Any], rates: dict[str, float], status: dict[str, Any]) -> Group:
    """The live view, in about 24 lines of 80 columns: agencies, banks, denials, the
    workers' lag and dead letters, the last governance changes."""
    agencies = Table(box=None, pad_edge=False)
    agencies.add_column(f"{status['elapsed']:.0f}s/{summary['seconds']:.0f}s", no_wrap=True)
    for agency in summary["published"]:
        agencies.add_column(agency, justify="right", no_wrap=True)
    agencies.add_row("events/s", *(f"{rates.get(a, 0.0):.1f}" for a in summary["published"]))
    agencies.add_row("published", *(f"{n:,}" for n in summary["published"].values()))
    lag = "?" if status["lag"] is None else f"{status['lag']:,}"
    footer = f"workers' lag {lag} events; dead letters +{status['dlq']:,}"
    return Group(
        agencies,
        bank_table(summary),
        denial_table(summary),
        footer,
        *summary["timeline"][-2:],
    )


def line(summary: dict[str, Any], status: dict[str, Any]) -> str:
    """One plain progress line."""
    received = sum(
        b["handler"]["change"] + b["handler"]["backfill"] for b in summary["banks"].values()
    )
    lag = "?" if status["lag"] is None else str(status["lag"])
    return (
        f"t={status['elapsed']:.0f}s published {summary['published_total']} "
        f"received {received} denied {summary['denied_total']} "
        f"retractions {summary['retractions_total']} lag {lag} dlq +{status['dlq']}"
    )


class View:
    """The live table on a terminal, a plain line every few seconds elsewhere."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.rates = Rates()
        self.admin = AdminClient(demo.kafka.librdkafka())
        self.dlq_start = _total(end_offsets(demo.kafka, names.DLQ))
        self.status: dict[str, Any] = {"elapsed": 0.0, "lag": None, "dlq": 0}
        self.sampled = 0.0
        self.printed = 0.0
        self.live = Live(console=demo.console, refresh_per_second=4, transient=False)

    def __enter__(self) -> View:
        if self.demo.options.live:
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.demo.options.live:
            self.live.stop()

    def refresh(self) -> None:
        now = time.monotonic()
        if now - self.sampled < 2.0:
            return
        assert self.demo.traffic is not None
        self.sampled = now
        self.rates.add(now, self.demo.traffic.published)
        self.status = {
            "elapsed": now - self.demo.clock,
            "lag": lag(self.admin, self.demo.group),
            "dlq": _total(end_offsets(self.demo.kafka, names.DLQ)) - self.dlq_start,
        }
        summary = self.demo.summary()
        if self.demo.options.live:
            self.live.update(render(summary, self.rates.per_second(), self.status))
        elif now - self.printed >= PLAIN_EVERY:
            self.printed = now
            print(line(summary, self.status), flush=True)


def _total(offsets: list[Any]) -> int:
    return sum(tp.offset for tp in offsets)
