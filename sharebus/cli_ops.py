"""The operator's commands: `status`, `kafka <tool>`, `audit query`."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console

from foundation.errors import UsageError
from foundation.probe import require
from sharebus.cli_common import friendly

out = Console(soft_wrap=True)


@friendly
def status(
    worker_group: Annotated[
        str | None,
        typer.Option(help="the workers' consumer group", envvar="SHAREBUS_WORKER_APP_ID"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON on stdout")] = False,
) -> None:
    """The local stack's processes, broker and registry health, topics, governance in
    force, dead letters, and the lag of the workers' and the banks' consumer groups.

    Exits 1 when the broker or the registry does not answer."""
    from foundation.settings import get_kafka_settings, get_stack_settings, get_worker_settings
    from sharebus.status import collect
    from sharebus.status_text import render

    group = worker_group or get_worker_settings().app_id
    report = collect(get_kafka_settings(), get_stack_settings(), group)
    if as_json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        for line in render(report):
            out.print(line, markup=False, highlight=False)
    if not (report["kafka"]["ok"] and report["registry"]["ok"]):
        raise typer.Exit(1)


@friendly
def kafka(
    ctx: typer.Context,
    tool: Annotated[
        str, typer.Argument(help="kafka-consumer-groups, kafka-console-consumer or kafka-topics")
    ],
) -> None:
    """Run one of Kafka's own tools against the configured cluster, e.g.
    `sharebus kafka kafka-consumer-groups --list`; its options pass through unchanged."""
    from foundation.settings import get_kafka_settings, get_stack_settings
    from sharebus.kafka_tools import run

    if not {"--help", "--version"} & set(ctx.args):
        require(kafka=True)
    code = run(tool, list(ctx.args), get_kafka_settings(), get_stack_settings())
    if code:
        raise typer.Exit(code)


@friendly
def audit_query_cmd(
    uscc: Annotated[str, typer.Option(help="the enterprise's unified social credit code")],
    bank: Annotated[str | None, typer.Option(help="only decisions for this bank")] = None,
    since: Annotated[
        str | None, typer.Option(help="from this time (2026-11-01, ...T08:00:00Z) or span (7d)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per decision")] = False,
) -> None:
    """Who received what about an enterprise, and under which agreement; what was withheld.

    Each decision of the audit about the enterprise: the bank, the agreement and purpose,
    the fields received, masked and withheld, or the reason nothing was sent."""
    from foundation.settings import get_kafka_settings
    from schemas.uscc import problem
    from sharebus.audit_query import parse_since, query
    from sharebus.parties import known

    bad = problem(uscc)
    if bad:
        raise UsageError(f"--uscc: {bad}")
    start = parse_since(since) if since else None
    require(kafka=True, registry=True)
    if bank is not None:
        known("bank", bank)
    records = query(get_kafka_settings(), uscc, bank, start)
    if as_json:
        for r in records:
            print(json.dumps(r, default=_iso, ensure_ascii=False))
        return
    for r in records:
        out.print(_describe(r), markup=False, highlight=False)
    delivered = sum(r["decision"] == "delivered" for r in records)
    banks = sorted({r["bank"] for r in records if r["decision"] == "delivered"})
    out.print(
        f"{len(records)} decisions about {uscc}: {delivered} delivered"
        + (f" (to {', '.join(banks)})" if banks else "")
        + f", {len(records) - delivered} withheld",
        highlight=False,
    )


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _describe(r: dict[str, Any]) -> str:
    when = r["decided_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
    what = f"{r['category']} ({r['op']}, event {r['event_id']})"
    if r["decision"] != "delivered":
        under = f" under {r['agreement_id']}" if r["agreement_id"] else ""
        return f"{when}  {r['bank']:<6} WITHHELD {what}{under}: {r['reason']}: {r['detail']}"
    line = (
        f"{when}  {r['bank']:<6} RECEIVED {what} under {r['agreement_id']} "
        f"v{r['agreement_version']} for {r['purpose']}: {', '.join(r['fields_delivered'])}"
    )
    if r["fields_masked"]:
        line += f"; masked {', '.join(r['fields_masked'])}"
    if r["fields_dropped"]:
        line += f"; withheld {', '.join(r['fields_dropped'])}"
    return line
