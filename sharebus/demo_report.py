"""The demo's report: a JSON file of its figures, the same on the terminal, and a
self-contained HTML page with two charts drawn here as inline SVG (no script, no CDN: it
opens offline, and can be mailed or archived as one file).

Deliveries are what the banks' handlers received; beside them the workers' decisions
from the audit, so a reader sees that the two agree (`matched`).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def write_report(summary: dict[str, Any], folder: Path) -> Path:
    """`report-<run>.json` and `report-<run>.html` in `folder`; the HTML's path."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / f"report-{summary['run_id']}"
    stem.with_suffix(".json").write_text(json.dumps(summary, indent=2) + "\n", "utf-8")
    page = stem.with_suffix(".html")
    page.write_text(render_html(summary), "utf-8")
    return page


def bank_table(summary: dict[str, Any]) -> Table:
    """Per bank, what its handler received and what the audit says was delivered: numbers
    only, so that it fits 80 columns without cutting a word."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("bank", "received", "backfill", "retractions", "tombstones", "audit", "denied"):
        table.add_column(name, justify="left" if name == "bank" else "right", no_wrap=True)
    for bank, b in summary["banks"].items():
        got = b["handler"]
        table.add_row(
            bank,
            f"{got['change']:,}",
            f"{got['backfill']:,}",
            f"{got['retraction']:,}",
            f"{got['tombstone']:,}",
            f"{b['audit_delivered']:,}" + ("" if b["matched"] else " ≠"),
            f"{sum(b['denied'].values()):,}",
        )
    return table


def denial_table(summary: dict[str, Any]) -> Table:
    """Denials by reason (rows) and bank (columns)."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("denied because", no_wrap=True)
    for bank in summary["banks"]:
        table.add_column(bank, justify="right", no_wrap=True)
    for reason in sorted(summary["denials"]):
        counts = [b["denied"].get(reason, 0) for b in summary["banks"].values()]
        table.add_row(reason, *(f"{n:,}" for n in counts))
    return table


def print_report(summary: dict[str, Any], page: Path, console: Console) -> None:
    """The report on the terminal; off a terminal, as whole lines (no table cut to a width)."""
    if console.is_terminal:
        console.print(f"sharebus demo {summary['run_id']}: what each bank got", highlight=False)
        console.print(bank_table(summary), denial_table(summary))
    else:
        for bank, b in summary["banks"].items():
            got = b["handler"]
            why = ", ".join(f"{r} {n}" for r, n in sorted(b["denied"].items())) or "none"
            console.print(
                f"bank {bank}: received {got['change']} live, {got['backfill']} backfill, "
                f"{got['retraction']} retractions, {got['tombstone']} tombstones; "
                f"audit delivered {b['audit_delivered']}; denied: {why}",
                highlight=False,
            )
    agencies = ", ".join(f"{a} {n:,}" for a, n in summary["published"].items())
    console.print(
        f"published {summary['published_total']:,} events in {summary['seconds']}s: {agencies}"
    )
    console.print(
        f"delivered {summary['delivered_total']:,}, denied {summary['denied_total']:,}, "
        f"retractions {summary['retractions_total']:,}, backfilled {summary['backfilled_total']:,}"
    )
    for line in summary["timeline"]:
        console.print(f"  {line}", highlight=False)
    verdict = "match" if summary["matched"] else "DIFFER"
    console.print(f"handlers and audit {verdict}; report: {page}", highlight=False)


def render_html(summary: dict[str, Any]) -> str:
    title = f"sharebus demo {summary['run_id']}"
    rows = "".join(
        f"<tr><td>{html.escape(bank)}</td><td>{b['handler']['change']:,}</td>"
        f"<td>{b['handler']['backfill']:,}</td><td>{b['handler']['retraction']:,}</td>"
        f"<td>{b['audit_delivered']:,}</td><td>{sum(b['denied'].values()):,}</td></tr>"
        for bank, b in summary["banks"].items()
    )
    timeline = "".join(f"<li>{html.escape(line)}</li>" for line in summary["timeline"])
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:right}}
td:first-child{{text-align:left}}</style></head><body>
<h1>{html.escape(title)}</h1>
<p>{summary["published_total"]:,} events published by the agencies in {summary["seconds"]} s;
{summary["delivered_total"]:,} deliveries, {summary["denied_total"]:,} denials,
{summary["retractions_total"]:,} retractions, {summary["backfilled_total"]:,} backfilled.
The banks' handlers and the audit {"agree" if summary["matched"] else "DIFFER"}.</p>
<h2>Deliveries over time, per bank (received by the handlers, cumulative)</h2>
{line_chart(summary)}
<h2>Denials per reason (all banks)</h2>
{bar_chart(summary["denials"])}
<h2>Per bank</h2>
<table><tr><th>bank</th><th>received</th><th>backfill</th><th>retractions</th>
<th>decided delivered (audit)</th><th>denied</th></tr>{rows}</table>
<h2>What happened</h2><ol>{timeline}</ol>
</body></html>
"""


def line_chart(summary: dict[str, Any], width: int = 640, height: int = 240) -> str:
    """Cumulative deliveries per bank against seconds of the run, one polyline each."""
    series = {bank: b["per_second"] for bank, b in summary["banks"].items()}
    seconds = max([len(s) for s in series.values()] + [1])
    totals = {bank: _cumulative(s) for bank, s in series.items()}
    top = max([t[-1] for t in totals.values() if t] + [1])
    pad = 40
    parts = [_axes(width, height, pad, f"{top:,}", f"{seconds} s")]
    for i, (bank, cumulative) in enumerate(totals.items()):
        colour = COLOURS[i % len(COLOURS)]
        points = " ".join(
            f"{pad + (width - 2 * pad) * x / seconds:.1f},"
            f"{height - pad - (height - 2 * pad) * y / top:.1f}"
            for x, y in enumerate(cumulative)
        )
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
        )
        parts.append(
            f'<text x="{width - pad + 4}" y="{pad + 14 * i}" fill="{colour}" '
            f'font-size="12">{html.escape(bank)}</text>'
        )
    return _svg(width + 60, height, parts)


def bar_chart(counts: dict[str, int], width: int = 640) -> str:
    if not counts:
        return "<p>none</p>"
    top = max(counts.values())
    parts = []
    for i, (reason, n) in enumerate(sorted(counts.items(), key=lambda kv: -kv[1])):
        y = 10 + 24 * i
        bar = (width - 220) * n / top
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{html.escape(reason)}</text>')
        parts.append(f'<rect x="110" y="{y}" width="{bar:.1f}" height="18" fill="#d62728"/>')
        parts.append(f'<text x="{116 + bar:.1f}" y="{y + 14}" font-size="12">{n:,}</text>')
    return _svg(width, 20 + 24 * len(counts), parts)


def _cumulative(per_second: list[int]) -> list[int]:
    out, total = [], 0
    for n in per_second:
        total += n
        out.append(total)
    return out


def _axes(width: int, height: int, pad: int, top: str, right: str) -> str:
    return (
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#444"/>'
        f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#444"/>'
        f'<text x="2" y="{pad}" font-size="11">{top}</text>'
        f'<text x="{width - pad - 30}" y="{height - pad + 16}" font-size="11">{right}</text>'
    )


def _svg(width: int, height: int, parts: list[str]) -> str:
    body = "".join(parts)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">{body}</svg>'
    )
