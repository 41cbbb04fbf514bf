"""What the worker does with one source message: decode, decide per bank, send.

Kept apart from faust so that it reads as plain code: `FanOut.handle(message)` returns
the records to produce (bank records, tombstones, dead letters); the faust agent sends
them. Nothing here blocks on Kafka.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from governance.decision import Decision, Event, Governance, decide
from schemas import names
from schemas.catalog import BANKS, Catalog
from schemas.derive import bank_envelope
from schemas.errors import SchemaError
from schemas.serde import AvroSerde, encode_with
from sharebus import headers as h


@dataclass(frozen=True)
class Outgoing:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: h.Headers
    partition: int | None = None
    retention_days: int = 30


@dataclass(frozen=True)
class Source:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: h.Headers


class FanOut:
    """Turns one source message into what each bank may receive."""

    def __init__(self, catalog: Catalog, serde: AvroSerde, governance: Governance) -> None:
        self.catalog = catalog
        self.serde = serde
        self.governance = governance
        self.banks = list(BANKS)
        self._writers: dict[tuple[str, str, str, int], tuple[int, Any]] = {}

    def handle(
        self, msg: Source, now: datetime | None = None
    ) -> tuple[list[Outgoing], list[Decision]]:
        position = h.position(msg.topic, msg.partition, msg.offset)
        category = names.category_of_source(msg.topic)
        if category is None or category not in self.catalog:
            return [self.dead_letter(msg, f"unknown category: topic {msg.topic}")], []
        if msg.value is None:
            # Tombstones are sent by the worker itself after a delivered delete.
            return [], []
        try:
            _, envelope = self.serde.decode(msg.value)
            event = self._event(category, msg, envelope)
        except (SchemaError, KeyError, TypeError, ValueError) as exc:
            return [self.dead_letter(msg, f"undecodable: {exc}")], []
        now = now or datetime.now(UTC)
        out: list[Outgoing] = []
        decisions = []
        for bank in self.banks:
            decision = decide(event, bank, self.governance, now)
            decisions.append(decision)
            if decision.delivered:
                out.extend(self._deliver(event, envelope, decision, msg, position))
        return out, decisions

    def _event(self, category: str, msg: Source, envelope: dict[str, Any]) -> Event:
        uscc = msg.key.decode() if msg.key is not None else ""
        return Event(category, envelope["op"], uscc, envelope["before"], envelope["after"])

    def _deliver(
        self, event: Event, envelope: dict[str, Any], decision: Decision, msg: Source, position: str
    ) -> list[Outgoing]:
        agreement = decision.agreement
        assert agreement is not None
        grant = agreement.grant_for(event.category)
        assert grant is not None
        cat = self.catalog.get(event.category)
        topic = names.bank_topic(decision.bank, event.category)
        value = {**envelope, "before": decision.before, "after": decision.after}
        # One bank schema per (bank, category, agreement version): derived and registered once.
        writer_key = (decision.bank, event.category, agreement.id, agreement.version)
        writer = self._writers.get(writer_key)
        if writer is None:
            schema = bank_envelope(cat, decision.bank, grant.fields)
            writer = self._writers[writer_key] = self.serde.writer(
                names.value_subject(topic), schema
            )
        encoded = encode_with(writer[0], writer[1], value)
        headers = [(k, v) for k, v in msg.headers if k.startswith("ce_")]
        headers += [
            (h.AGREEMENT_ID, agreement.id.encode()),
            (h.PURPOSE, agreement.purpose.encode()),
            (h.SOURCE_POSITION, position.encode()),
        ]
        keep = grant.retention_days
        records = [Outgoing(topic, msg.key, encoded, headers, msg.partition, keep)]
        if event.op == "d":
            records.append(Outgoing(topic, msg.key, None, headers, msg.partition, keep))
        return records

    def dead_letter(self, msg: Source, reason: str) -> Outgoing:
        headers = [
            *list(msg.headers),
            (h.DLQ_REASON, reason[:1000].encode()),
            (h.DLQ_TOPIC, msg.topic.encode()),
            (h.SOURCE_POSITION, h.position(msg.topic, msg.partition, msg.offset).encode()),
        ]
        return Outgoing(names.DLQ, msg.key, msg.value, headers)
