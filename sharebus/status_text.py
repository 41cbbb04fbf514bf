"""`sharebus status` for people: one line per fact, partitions only where there is lag."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def render(report: dict[str, Any]) -> Iterator[str]:
    stack = report["stack"]
    for c in stack:
        yield f"{c['name']:<9} {'running' if c['running'] else 'stopped'}  {c['detail']}"
    if not any(c["running"] for c in stack):
        yield "nothing running"
    for name in ("kafka", "registry"):
        health = report[name]
        state = "ok" if health["ok"] else f"UNREACHABLE: {health['problem']}"
        yield f"{name + ' health':<16} {state}  ({health['address']})"
    if "topics" not in report:
        return
    t = report["topics"]
    yield f"{'topics':<16} {t['source']} source, {t['bank']} bank, {t['system']} system"
    gov = report["governance"]
    if gov.get("version"):
        yield (
            f"{'governance':<16} version {gov['version']} in force: {gov['banks']} banks, "
            f"{gov['agencies']} agencies, {gov['entrustments']} entrustments, "
            f"{gov['agreements']} agreements, {gov['consents']} consents"
        )
    else:
        yield f"{'governance':<16} none applied {gov.get('problem') or ''}".rstrip()
    dlq = report["dlq"]["records"]
    yield f"{'dead letters':<16} {'no topic' if dlq is None else dlq}"
    yield from _group("workers", report["workers"])
    if not report["banks"]:
        yield f"{'bank groups':<16} none"
    for group in report["banks"]:
        yield from _group("bank group", group)


def _group(label: str, g: dict[str, Any]) -> Iterator[str]:
    yield (
        f"{label:<16} {g['group']}: {g['state']}, {g['members']} members, lag {g['lag']} "
        f"over {len(g['partitions'])} partitions"
    )
    for p in g["partitions"]:
        if p["lag"]:
            yield f"{'':<16}   {p['topic']}[{p['partition']}] lag {p['lag']}"
