"""`sharebus governance validate|apply`, `sharebus consent revoke`, `sharebus explain`.

Apply validates everything first and writes nothing when anything is invalid; then every
record goes to its compacted topic with one new governance version, which the workers
report once they have applied it.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer
from confluent_kafka import Producer
from rich.console import Console

from governance import codec
from governance.errors import GovernanceError
from governance.models import Agreement, Consent, Entrustment, Governance
from sharebus.cli_common import friendly
from sharebus.settings import KafkaSettings, get_kafka_settings, get_worker_settings

governance_app = typer.Typer(help="Entrustments, agreements and consents.", no_args_is_help=True)
consent_app = typer.Typer(help="Per-enterprise consents.", no_args_is_help=True)
out = Console(soft_wrap=True)

GovRecord = Agreement | Entrustment | Consent


def new_version() -> int:
    """Governance versions are the apply time in milliseconds: they only grow."""
    return time.time_ns() // 1_000_000


def records_of(gov: Governance) -> list[GovRecord]:
    return [*gov.entrustments.values(), *gov.agreements.values(), *gov.consents.values()]


def write(records: list[GovRecord], settings: KafkaSettings | None = None) -> int:
    """Write records to the governance topics under one new version; return it."""
    settings = settings or get_kafka_settings()
    version = new_version()
    producer = Producer({**settings.librdkafka(), "enable.idempotence": True, "acks": "all"})
    failures: list[str] = []

    def report(err: Any, msg: Any) -> None:
        if err is not None:
            failures.append(err.str())

    for record in records:
        producer.produce(
            codec.TOPIC_OF_KIND[record.kind],
            key=record.key.encode(),
            value=codec.encode(record, version),
            on_delivery=report,
        )
        producer.poll(0)
    if producer.flush(30) or failures:
        cause = failures[0] if failures else "not acknowledged within 30s"
        raise GovernanceError(f"governance not fully written: {cause}")
    return version


def read_current(settings: KafkaSettings | None = None, timeout: float = 30.0) -> Governance:
    """The governance the workers see now, read from the topics."""
    from streams.governance_feed import GovernanceFeed

    feed = GovernanceFeed((settings or get_kafka_settings()).librdkafka())
    feed.start()
    try:
        if not feed.wait_ready(timeout):
            raise GovernanceError(f"governance topics not readable within {timeout:.0f}s")
        return feed.current
    finally:
        feed.stop()


def _load(directory: Path) -> Governance:
    from governance.loader import governance_from_dir

    return governance_from_dir(directory)


@governance_app.command("validate")
@friendly
def validate_cmd(
    directory: Annotated[Path, typer.Argument(help="folder of governance YAML")],
) -> None:
    """Check every record (catalog, banks, fields, CEL filters, windows); write nothing."""
    gov = _load(directory)
    out.print(f"valid: {_counts(gov)}", highlight=False)


@governance_app.command("apply")
@friendly
def apply_cmd(directory: Annotated[Path, typer.Argument(help="folder of governance YAML")]) -> None:
    """Validate all, then write all to the governance topics (nothing when anything is invalid)."""
    gov = _load(directory)
    version = write(records_of(gov))
    out.print(f"applied governance version {version}: {_counts(gov)}", highlight=False)


@consent_app.command("revoke")
@friendly
def revoke_cmd(
    bank: Annotated[str, typer.Option(help="bank id")],
    uscc: Annotated[str, typer.Option(help="the enterprise")],
) -> None:
    """Revoke an enterprise's consent to a bank, at once, for every category."""
    current = read_current().consent(bank, uscc)
    if current is None:
        raise GovernanceError(f"no consent of {uscc} for {bank} to revoke")
    version = write([current.model_copy(update={"revoked": True})])
    out.print(f"revoked consent {bank}:{uscc} (governance version {version})", highlight=False)


def _counts(gov: Governance) -> str:
    return (
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
) -> None:
    """Say, for each record, whether the bank gets it under current governance, and why."""
    from datetime import UTC, datetime

    from governance.decision import Event, decide
    from producers.files import open_input, read_lines
    from schemas.catalog import load_catalog
    from schemas.serde import AvroSerde, registry_client
    from streams.profile_feed import ProfileFeed

    cat = load_catalog().get(category)
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
        if line.event is None:
            out.print(f"line {line.number}: unreadable: {line.problem}", highlight=False)
            tally["unreadable"] += 1
            continue
        ev = line.event
        event = Event(category, ev.op, ev.uscc, ev.before, ev.after)
        d = decide(event, bank, gov, profiles.get(ev.uscc.encode()), now, keys)
        tally[d.reason.value] += 1
        where = f" under {d.agreement_id} v{d.agreement_version}" if d.agreement_id else ""
        verdict = "DELIVERED" if d.delivered else f"DENIED ({d.reason.value})"
        out.print(f"line {line.number} {ev.uscc}: {verdict}{where}: {d.detail}", highlight=False)
        if d.delivered:
            out.print(
                f"    bank sees: {json.dumps(d.after or d.before, default=str, ensure_ascii=False)}"
            )
    out.print(
        f"{bank} / {category} (governance version {gov.version}): "
        + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())),
        highlight=False,
    )
