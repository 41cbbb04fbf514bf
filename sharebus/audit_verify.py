"""`sharebus audit verify`: walk the audit's hash chains and say where one is broken.

Reads the audit topic from its beginning (committed records only), partition by
partition in order, and checks each chain (`streams.audit_chain`): an altered entry, a
removed one, an inserted one is reported with its position, and the exit code is 1.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition
from rich.console import Console

from schemas import names
from schemas.serde import AvroSerde, registry_client
from sharebus import headers as h
from sharebus.cli_common import friendly
from sharebus.errors import SharebusError
from sharebus.settings import KafkaSettings, get_kafka_settings
from streams.audit_chain import verify

audit_app = typer.Typer(help="The audit: who received what, and whether it is intact.")
out = Console(soft_wrap=True)


def audit_entries(settings: KafkaSettings, topic: str) -> list[tuple[str, dict[str, Any]]]:
    """(position, record) of every committed audit record, in partition order."""
    serde = AvroSerde(registry_client(settings.registry()))
    consumer = Consumer(
        {
            **settings.librdkafka(),
            "group.id": "sharebus-audit-verify",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    try:
        meta = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if meta is None or meta.error is not None or not meta.partitions:
            raise SharebusError(f"no topic {topic} on the cluster")
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.partitions])
        pending = set(meta.partitions)
        by_partition: dict[int, list[tuple[str, dict[str, Any]]]] = {p: [] for p in pending}
        deadline = time.monotonic() + 600
        while pending and time.monotonic() < deadline:
            for msg in consumer.consume(2000, 0.5):
                err = msg.error()
                partition = msg.partition() or 0
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        pending.discard(partition)
                    continue
                position = h.position(topic, partition, msg.offset() or 0)
                value = msg.value()
                if value is None:
                    by_partition[partition].append((position, {"chain": "?", "hash": None}))
                    continue
                by_partition[partition].append((position, serde.decode(value)[1]))
        if pending:
            raise SharebusError(f"{topic} could not be read to its end")
        return [entry for p in sorted(by_partition) for entry in by_partition[p]]
    finally:
        consumer.close()


@audit_app.command("verify")
@friendly
def verify_cmd(
    topic: Annotated[str, typer.Option(help="the audit topic (or a copy of it)")] = names.AUDIT,
) -> None:
    """Check the audit's hash chains; exit 1 naming the first broken entry of each."""
    entries = audit_entries(get_kafka_settings(), topic)
    checked, problems = verify(entries)
    chains = len({r.get("chain") for _, r in entries if r.get("chain")})
    for problem in problems:
        out.print(f"broken: {problem}", highlight=False)
    if problems:
        raise typer.Exit(1)
    unchained = len(entries) - checked
    extra = f" ({unchained} older entries carry no chain)" if unchained else ""
    out.print(f"intact: {checked} entries in {chains} chains{extra}", highlight=False)
