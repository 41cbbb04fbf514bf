"""`sharebus governance validate|plan|apply`, `sharebus consent grant|revoke|list`,
`sharebus explain`.

Apply reconciles: it shows what it adds, changes and ends against the governance in
force, then writes exactly that as one version (nothing when anything is invalid or a
changed agreement kept its version). Consents are a ledger: grant and revoke append to
it, and no folder apply undoes a revocation.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from foundation.errors import UsageError
from foundation.probe import require
from foundation.settings import get_kafka_settings, get_worker_settings
from governance.errors import GovernanceError
from governance.models import Consent, Governance
from governance.reconcile import Plan, consent_event
from sharebus.cli_common import friendly
from sharebus.governance_log import apply_folder, plan_folder, read_current, write

__all__ = ["consent_app", "explain", "governance_app", "read_current", "write"]

governance_app = typer.Typer(
    help="Parties, entrustments, agreements and consents.", no_args_is_help=True
)
consent_app = typer.Typer(help="The consent ledger: grants and revocations.", no_args_is_help=True)
out = Console(soft_wrap=True)


def _load(directory: Path) -> Governance:
    from governance.loader import governance_from_dir

    return governance_from_dir(directory)


@governance_app.command("validate")
@friendly
def validate_cmd(
    directory: Annotated[Path, typer.Argument(help="folder of governance YAML")],
    as_json: Annotated[bool, typer.Option("--json", help="the result as JSON on stdout")] = False,
) -> None:
    """Check every record (parties, catalog, fields, CEL filters and their types, windows);
    write nothing."""
    if as_json:
        from governance.loader import load_dir
        from governance.validate import validate
        from schemas.catalog import load_catalog

        loaded = load_dir(directory)
        problems = loaded.problems + validate(loaded, load_catalog())
        kinds = Counter(s.record.kind for s in loaded.records)
        print(json.dumps({"valid": not problems, "problems": problems, "records": kinds}))
        if problems:
            raise typer.Exit(1)
        return
    gov = _load(directory)
    out.print(f"valid: {_counts(gov)}", highlight=False)


def _print_plan(result: Plan, as_json: bool) -> None:
    if as_json:
        body = {
            "changes": [
                {"action": c.action, "kind": c.kind, "key": c.key, "detail": c.detail}
                for c in result.changes
            ],
            "counts": result.counts(),
            "unchanged": result.unchanged,
            "problems": result.problems,
        }
        out.print_json(json.dumps(body, ensure_ascii=False))
        return
    marks = {"add": "+", "change": "~", "end": "-", "grant": "+", "revoke": "-"}
    for c in result.changes:
        out.print(f"{marks[c.action]} {c.action:<6} {c.kind} {c.key}: {c.detail}", highlight=False)
    for problem in result.problems:
        out.print(f"! {problem}", highlight=False)
    out.print(f"plan: {result.summary()}", highlight=False)


@governance_app.command("plan")
@friendly
def plan_cmd(
    directory: Annotated[Path, typer.Argument(help="folder of governance YAML")],
    as_json: Annotated[bool, typer.Option("--json", help="print the plan as JSON")] = False,
) -> None:
    """Show what `apply` would add, change, end, grant and revoke; write nothing.

    Exit 0 when the folder can be applied, 1 when it has problems."""
    result, _ = plan_folder(directory)
    _print_plan(result, as_json)
    if result.problems:
        raise typer.Exit(1)


@governance_app.command("apply")
@friendly
def apply_cmd(
    directory: Annotated[Path, typer.Argument(help="folder of governance YAML")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show the plan only")] = False,
) -> None:
    """Make the governance in force what the folder says, as one version.

    A record no longer in the folder is ended explicitly (agreement or entrustment
    terminated, party retired, consent from a file revoked). Nothing is written when
    anything is invalid."""
    if dry_run:
        result, _ = plan_folder(directory)
        _print_plan(result, False)
        if result.problems:
            raise typer.Exit(1)
        return
    result, version = apply_folder(directory)
    _print_plan(result, False)
    if version is None:
        out.print("nothing to apply: the governance in force is the folder's", highlight=False)
    else:
        out.print(f"applied governance version {version}", highlight=False)


@consent_app.command("grant")
@friendly
def grant_cmd(
    bank: Annotated[str, typer.Option(help="bank id")],
    uscc: Annotated[str, typer.Option(help="the enterprise")],
    category: Annotated[
        list[str] | None, typer.Option(help="a category it covers; every one when omitted")
    ] = None,
    days: Annotated[int, typer.Option(min=1, help="valid for this many days from now")] = 365,
    source: Annotated[str, typer.Option(help="what recorded it: cli, api, ...")] = "cli",
) -> None:
    """Record an enterprise's consent to a bank: a new grant in the ledger."""
    from schemas.catalog import load_catalog
    from schemas.uscc import problem as uscc_problem

    # What can be checked here is checked before Kafka is asked.
    bad = uscc_problem(uscc)
    if bad:
        raise UsageError(f"invalid USCC {uscc}: {bad}")
    catalog = load_catalog()
    unknown = [c for c in category or [] if c not in catalog]
    if unknown:
        raise UsageError(f"unknown category: {', '.join(unknown)}")
    require(kafka=True)
    gov = read_current()
    if bank not in gov.banks or not gov.banks[bank].active:
        raise GovernanceError(f"unknown bank '{bank}' ({', '.join(gov.active_banks())})")
    now = datetime.now(UTC)
    consent = Consent(
        uscc=uscc,
        bank=bank,
        categories=sorted(category) if category else "all",
        granted_at=now,
        expires_at=now + timedelta(days=days),
    )
    event = consent_event("grant", consent, uuid.uuid4().hex[:20], source, now)
    version = write([event], source=f"consent grant {bank}:{uscc}")
    out.print(
        f"granted consent {bank}:{uscc} until {consent.expires_at.date()}"
        f" (governance version {version})",
        highlight=False,
    )


@consent_app.command("revoke")
@friendly
def revoke_cmd(
    bank: Annotated[str, typer.Option(help="bank id")],
    uscc: Annotated[str, typer.Option(help="the enterprise")],
    reason: Annotated[
        str, typer.Option(help="why, for the ledger")
    ] = "withdrawn by the enterprise",
    source: Annotated[str, typer.Option(help="what recorded it: cli, api, ...")] = "cli",
) -> None:
    """Revoke an enterprise's consent to a bank, at once, for every category."""
    require(kafka=True)
    gov = read_current()
    current = gov.consent(bank, uscc)
    if current is None or current.revoked:
        raise GovernanceError(f"no consent of {uscc} for {bank} in force to revoke")
    grant = gov.consent_grants.get(current.key)
    grant_id = grant.grant_id if grant else ""
    event = consent_event("revoke", current, grant_id, source, datetime.now(UTC), reason)
    version = write([event], source=f"consent revoke {bank}:{uscc}")
    out.print(f"revoked consent {bank}:{uscc} (governance version {version})", highlight=False)


@consent_app.command("list")
@friendly
def list_cmd(
    bank: Annotated[str | None, typer.Option(help="only this bank's")] = None,
    uscc: Annotated[str | None, typer.Option(help="only this enterprise's")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
) -> None:
    """The consents in force (the fold of the ledger), with their grant's source."""
    require(kafka=True)
    gov = read_current()
    now = datetime.now(UTC)
    shown = 0
    for key, consent in sorted(gov.consents.items()):
        if (bank and consent.bank != bank) or (uscc and consent.uscc != uscc):
            continue
        grant = gov.consent_grants.get(key)
        state = (
            "revoked"
            if consent.revoked
            else ("in force" if consent.covers_any(now) else "expired or not yet valid")
        )
        row = {
            "bank": consent.bank,
            "uscc": consent.uscc,
            "categories": consent.categories,
            "granted_at": consent.granted_at.isoformat(),
            "expires_at": consent.expires_at.isoformat(),
            "state": state,
            "source": grant.source if grant else "",
        }
        shown += 1
        if as_json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            cats = "all" if consent.categories == "all" else ",".join(consent.categories)
            out.print(
                f"{consent.bank:<6} {consent.uscc}  {state:<8} {cats}"
                f"  {consent.granted_at.date()}..{consent.expires_at.date()}  {row['source']}",
                highlight=False,
            )
    if not as_json:
        out.print(f"{shown} consent(s), governance version {gov.version}", highlight=False)


def _counts(gov: Governance) -> str:
    return (
        f"{len(gov.banks)} bank(s), {len(gov.agencies)} agenc(ies), "
        f"{len(gov.entrustments)} entrustment(s), {len(gov.agreements)} agreement(s), "
        f"{len(gov.consents)} consent(s)"
    )


@friendly
def explain(
    bank: Annotated[str, typer.Option(help="bank id")],
    category: Annotated[str, typer.Option(help="category id")],
    file: Annotated[Path, typer.Argument(help="JSON lines of records (or change events)")],
    governance: Annotated[
        Path | None, typer.Option(help="explain against this folder instead of the applied one")
    ] = None,
    op: Annotated[str, typer.Option(help="op for lines that do not say")] = "c",
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line")] = False,
) -> None:
    """Say, for each record, whether the bank gets it under current governance, and why.

    Records are checked exactly as `sharebus publish` checks them: one it would reject is
    `rejected`, never judged."""
    from datetime import UTC, datetime

    from governance.decision import Event, decide
    from producers.files import open_input, read_lines
    from producers.validate import line_problem
    from schemas.catalog import load_catalog
    from schemas.serde import AvroSerde, registry_client
    from sharebus.parties import known
    from streams.profile_feed import ProfileFeed

    cat = load_catalog().get(category)
    require(kafka=True, registry=True)
    known("bank", bank)
    gov = _load(governance) if governance else read_current()
    with open_input(str(file)) as stream:
        lines = list(read_lines(stream, "jsonl", cat, op))
    kafka = get_kafka_settings()
    # The same profiles a worker holds, read from the registration topic.
    profiles = ProfileFeed(kafka.librdkafka(), AvroSerde(registry_client(kafka.registry())))
    profiles.start()
    try:
        if not profiles.wait_ready(60):
            raise GovernanceError("enterprise profiles not readable within 60s")
    finally:
        profiles.stop()
    keys = get_worker_settings().mask_key_bytes()
    tally: Counter[str] = Counter()
    now = datetime.now(UTC)
    for line in lines:
        problem = line_problem(cat, line)
        if problem or line.event is None:
            _say(as_json, {"line": line.number, "verdict": "rejected", "reason": problem})
            if not as_json:
                out.print(f"line {line.number}: REJECTED as publish would: {problem}", markup=False)
            tally["rejected"] += 1
            continue
        ev = line.event
        event = Event(category, ev.op, ev.uscc, ev.before, ev.after)
        d = decide(event, bank, gov, profiles.get(ev.uscc.encode()), now, keys)
        tally[d.reason.value] += 1
        sees = d.after or d.before if d.delivered else None
        verdict = "delivered" if d.delivered else "denied"
        _say(
            as_json,
            {"line": line.number, "uscc": ev.uscc, "verdict": verdict, "reason": d.reason.value}
            | {"agreement_id": d.agreement_id, "agreement_version": d.agreement_version}
            | {"detail": d.detail, "bank_sees": sees},
        )
        if as_json:
            continue
        where = f" under {d.agreement_id} v{d.agreement_version}" if d.agreement_id else ""
        verdict = "DELIVERED" if d.delivered else f"DENIED ({d.reason.value})"
        out.print(f"line {line.number} {ev.uscc}: {verdict}{where}: {d.detail}", highlight=False)
        if d.delivered:
            out.print(f"    bank sees: {json.dumps(sees, default=str, ensure_ascii=False)}")
    if as_json:
        return
    out.print(
        f"{bank} / {category} (governance version {gov.version}): "
        + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())),
        highlight=False,
    )


def _say(as_json: bool, entry: dict[str, Any]) -> None:
    if as_json:
        print(json.dumps(entry, default=str, ensure_ascii=False))
