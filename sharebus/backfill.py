"""Backfill: a bank onboarded late receives the current state of what it is granted.

For each category an agreement grants, the source topic (compacted: the latest record per
enterprise) is read up to its end as it is when the run starts; every enterprise whose
latest event is not a delete goes through the workers' own fan-out (`streams.FanOut`,
the same decision, projection and masks) for that bank only, as an `op=r` event with the
header `sharebus_backfill` = the run id, and its decision goes to the audit marked as
backfill. Within a partition the events go out in source order, so the subscriber SDK
drops what an earlier run already delivered (same source positions): a second run only
adds what changed since.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Producer

from foundation import headers as h
from foundation.errors import SharebusError, UsageError
from foundation.reading import TopicMissingError, read_to_end
from foundation.settings import KafkaSettings, WorkerSettings
from governance.models import Governance
from governance.topics import Topics, bank_spec
from schemas import names
from schemas.catalog import load_catalog
from schemas.serde import AvroSerde, encode_with, registry_client
from streams.fanout import Decoded, FanOut, Outgoing, Source
from streams.profile_feed import ProfileFeed

Report = Callable[[str], None]


class BackfillError(SharebusError):
    """A backfill could not read its sources or deliver what it decided."""


@dataclass
class Tally:
    """One category of one run: what was current, delivered, denied (by reason)."""

    current: int = 0
    delivered: int = 0
    denied: dict[str, int] = field(default_factory=dict)


def new_run_id(agreement_id: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{agreement_id}.{stamp}.{uuid.uuid4().hex[:6]}"


def current_state(conf: dict[str, Any], topic: str, fanout: FanOut) -> list[tuple[Source, Decoded]]:
    """The latest event of every enterprise on `topic` that is not a delete, in source
    order (partition, offset), read up to the end the topic has now."""
    latest: dict[bytes, tuple[Source, Decoded]] = {}
    try:
        for msg in read_to_end(conf, topic, "sharebus-backfill", timeout=300):
            _keep_latest(latest, fanout, msg, topic)
    except TopicMissingError as exc:
        raise BackfillError(f"source topic {topic} cannot be read") from exc
    return sorted(latest.values(), key=lambda e: (e[0].partition, e[0].offset))


def _keep_latest(
    latest: dict[bytes, tuple[Source, Decoded]], fanout: FanOut, msg: Any, topic: str
) -> None:
    key = msg.key()
    if key is None:
        return
    src = Source(topic, msg.partition(), msg.offset(), key, msg.value(), list(msg.headers() or []))
    decoded = fanout.decode(src)
    if isinstance(decoded, Decoded) and decoded.event.op != "d":
        latest[key] = (src, decoded)
    elif decoded is None or isinstance(decoded, Decoded):
        latest.pop(key, None)  # a tombstone or a delete: nothing current
    # An undecodable record went to the DLQ when the worker read it: nothing to replay.


def backfill(
    agreement_id: str,
    gov: Governance,
    kafka: KafkaSettings,
    worker: WorkerSettings,
    report: Report,
) -> dict[str, Tally]:
    """Replay the current state of the agreement's categories to its bank; per category."""
    agreement = gov.agreements.get(agreement_id)
    if agreement is None:
        known = ", ".join(sorted(gov.agreements)) or "none"
        raise UsageError(f"unknown agreement '{agreement_id}'; agreements in force: {known}")
    catalog = load_catalog()
    serde = AvroSerde(registry_client(kafka.registry()))
    fanout = FanOut(catalog, serde, worker.mask_key_bytes())
    party = gov.banks.get(agreement.bank)
    if party is None or not party.active:
        raise BackfillError(f"bank {agreement.bank} is not an active party of the governance")
    # Decided for this bank alone: the fan-out decides for every bank of the governance.
    only = replace(gov, banks={agreement.bank: party})
    profiles = ProfileFeed(kafka.librdkafka(), serde)
    profiles.start()
    try:
        if not profiles.wait_ready(60):
            raise BackfillError("enterprise profiles not readable within 60s")
        sender = _Sender(kafka, serde)
        run_id = new_run_id(agreement.id)
        report(f"backfill run {run_id}: agreement {agreement.id} -> bank {agreement.bank}")
        tallies = {}
        for grant in agreement.grants:
            _ensure_bank_topic(kafka, agreement.bank, grant.category, grant.retention_days)
            tally = tallies[grant.category] = Tally()
            topic = names.source_topic(grant.category)
            for src, decoded in current_state(kafka.librdkafka(), topic, fanout):
                event = replace(decoded.event, op="r", before=None)
                read = Decoded(event, decoded.source, decoded.ts_ms)
                outgoing, decisions = fanout.fan(read, src, only, profiles.get(src.key))
                tally.current += 1
                for d in decisions:
                    if d.delivered:
                        tally.delivered += 1
                    else:
                        tally.denied[d.reason.value] = tally.denied.get(d.reason.value, 0) + 1
                for out in outgoing:
                    sender.send(out, run_id)
            sender.flush()
            denied = ", ".join(f"{n} {r}" for r, n in sorted(tally.denied.items()))
            report(
                f"{grant.category}: {tally.current} current, {tally.delivered} delivered"
                + (f", denied: {denied}" if denied else "")
            )
        return tallies
    finally:
        profiles.stop()


def _ensure_bank_topic(kafka: KafkaSettings, bank: str, category: str, days: int) -> None:
    topics = Topics(kafka)
    partitions = topics.partitions().get(names.source_topic(category))
    if partitions is None:
        raise BackfillError(f"source topic of {category} does not exist")
    topics.ensure([bank_spec(bank, category, partitions, days)])


class _Sender:
    """Produces what the fan-out returned, marked as backfill (idempotent, acks=all)."""

    def __init__(self, kafka: KafkaSettings, serde: AvroSerde) -> None:
        self.serde = serde
        self.failures: list[str] = []
        self.producer = Producer(
            {**kafka.librdkafka(), "enable.idempotence": True, "acks": "all", "linger.ms": 20}
        )

    def send(self, out: Outgoing, run_id: str) -> None:
        value = out.value
        if out.topic == names.AUDIT and value is not None:
            value = self._audited_as_backfill(value, run_id)
        headers: list[tuple[str, str | bytes | None]] = [*out.headers]
        headers.append((h.BACKFILL, run_id.encode()))
        kwargs: dict[str, Any] = {} if out.partition is None else {"partition": out.partition}
        while True:
            try:
                self.producer.produce(
                    out.topic, key=out.key, value=value, headers=headers,
                    on_delivery=self._report, **kwargs,
                )  # fmt: skip
                break
            except BufferError:
                self.producer.poll(0.5)
        self.producer.poll(0)

    def _audited_as_backfill(self, value: bytes, run_id: str) -> bytes:
        schema_id, record = self.serde.decode(value)
        record["detail"] = f"backfill {run_id}: {record.get('detail') or ''}".strip()
        return encode_with(schema_id, self.serde.reader(schema_id), record)

    def _report(self, err: Any, msg: Any) -> None:
        if err is not None:
            self.failures.append(f"{msg.topic()}: {err.str()}")

    def flush(self) -> None:
        if self.producer.flush(60) or self.failures:
            cause = self.failures[0] if self.failures else "not acknowledged within 60s"
            raise BackfillError(f"backfill not fully delivered: {cause}")
