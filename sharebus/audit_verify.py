"""`sharebus audit verify`: walk the audit's hash chains and say where one is broken.

Reads the audit topic from its beginning (committed records only), partition by
partition in order, and checks each chain (`streams.audit_chain`): an altered entry, a
removed one, an inserted one is reported with its position, and the exit code is 1.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console

from foundation import headers as h
from foundation.probe import require
from foundation.reading import read_to_end
from foundation.settings import KafkaSettings, get_kafka_settings
from schemas import names
from schemas.serde import AvroSerde, registry_client
from sharebus.cli_common import friendly
from streams.audit_chain import verify

audit_app = typer.Typer(help="The audit: who received what, and whether it is intact.")
out = Console(soft_wrap=True)


def audit_entries(settings: KafkaSettings, topic: str) -> list[tuple[str, dict[str, Any]]]:
    """(position, record) of every committed audit record, in partition order."""
    serde = AvroSerde(registry_client(settings.registry()))
    by_partition: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    found = read_to_end(
        settings.librdkafka(),
        topic,
        "sharebus-audit-verify",
        timeout=600,
        principal=settings.principal,
    )
    for msg in found:
        partition = msg.partition() or 0
        position = h.position(topic, partition, msg.offset() or 0)
        value = msg.value()
        # A tombstone in the audit breaks its chain: it is kept, as an entry with no hash.
        record = serde.decode(value)[1] if value is not None else {"chain": "?", "hash": None}
        by_partition.setdefault(partition, []).append((position, record))
    return [entry for p in sorted(by_partition) for entry in by_partition[p]]


@audit_app.command("verify")
@friendly
def verify_cmd(
    topic: Annotated[str, typer.Option(help="the audit topic (or a copy of it)")] = names.AUDIT,
) -> None:
    """Check the audit's hash chains; exit 1 naming the first broken entry of each."""
    settings = get_kafka_settings()
    require(kafka=True, registry=True, settings=settings)
    entries = audit_entries(settings, topic)
    checked, problems = verify(entries)
    chains = len({r.get("chain") for _, r in entries if r.get("chain")})
    for problem in problems:
        out.print(f"broken: {problem}", highlight=False)
    if problems:
        raise typer.Exit(1)
    unchained = len(entries) - checked
    extra = f" ({unchained} older entries carry no chain)" if unchained else ""
    out.print(f"intact: {checked} entries in {chains} chains{extra}", highlight=False)
