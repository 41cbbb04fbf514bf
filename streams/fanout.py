"""What the worker does with one source message: decode, decide per bank, build records.

Kept apart from faust so that it reads as plain code: `decode()` turns a message into an
`Event` (or a dead letter), `fan()` returns everything to produce for it — one audit
record per bank, and the bank records (and tombstones) of the deliveries. Nothing here
touches Kafka; the registry is asked once per new schema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from foundation import headers as h
from governance.bank_schema import bank_schema
from governance.cel import profile_from_registration
from governance.decision import Decision, Event, Reason, decide
from governance.models import Agreement, Governance, Grant, Status
from schemas import names
from schemas.catalog import Catalog
from schemas.errors import RegistryUnavailable, SchemaError, UnknownSchemaError
from schemas.registry import REGISTER_CONCURRENCY
from schemas.serde import AvroSerde, encode_with, frame_id
from schemas.system import audit_schema
from streams.audit_chain import audit_partition

REGISTRATION = "market.registration"


@dataclass(frozen=True)
class Source:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: h.Headers

    @property
    def position(self) -> str:
        return h.position(self.topic, self.partition, self.offset)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", "replace")
        return None


@dataclass(frozen=True)
class Decoded:
    """A source event as the decision sees it, and the provenance the bank record keeps."""

    event: Event
    source: dict[str, Any]
    ts_ms: int


@dataclass(frozen=True)
class Outgoing:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: h.Headers
    partition: int | None = None
    retention_days: int = 30


class FanOut:
    """Turns one source message into what each bank may receive, and the audit of it."""

    def __init__(self, catalog: Catalog, serde: AvroSerde, mask_keys: Mapping[str, bytes]) -> None:
        self.catalog = catalog
        self.serde = serde
        self.mask_keys = mask_keys
        # Set by the worker: chains each audit record (streams.audit_chain) and sends it
        # to its chain's audit partition. Left unset, audit records are keyed as usual.
        self.sealer: Callable[[dict[str, Any], Source], None] | None = None
        self.audit_partitions: int | None = None
        # Per (bank, category, agreement, version): the bank schema's id, its parsed form
        # and the full name of its value record (what `before` and `after` hold).
        self._writers: dict[tuple[str, str, str, int], tuple[int, Any, str]] = {}
        self._audit: tuple[int, Any] | None = None

    def decode(self, msg: Source) -> Decoded | Outgoing | None:
        """The event in `msg`, a dead letter when it is unreadable, None for a tombstone."""
        category = names.category_of_source(msg.topic)
        if category is None or category not in self.catalog:
            return self.dead_letter(msg, f"unknown category: topic {msg.topic}")
        if msg.value is None:
            # The agency's tombstone after a delete; the worker sends its own per bank.
            return None
        try:
            schema_id = frame_id(msg.value)
            subject = self.catalog.get(category).subject
            if not self.serde.belongs(schema_id, subject):
                self._known(schema_id)
                return self.dead_letter(
                    msg, f"wrong schema: id {schema_id} is not a version of {subject}"
                )
            try:
                _, envelope = self.serde.decode(msg.value)
            except UnknownSchemaError:
                self._known(schema_id)  # a version of the subject the registry has not loaded
                raise
            uscc = msg.key.decode() if msg.key is not None else ""
            event = Event(category, envelope["op"], uscc, envelope["before"], envelope["after"])
            return Decoded(event, envelope["source"], envelope["ts_ms"])
        except RegistryUnavailable:
            raise  # wait for the registry: a valid event is not a dead letter
        except (SchemaError, KeyError, TypeError, ValueError) as exc:
            return self.dead_letter(msg, f"undecodable: {exc}")

    def fan(
        self,
        decoded: Decoded,
        msg: Source,
        gov: Governance,
        profile: Mapping[str, Any] | None,
        now: datetime | None = None,
    ) -> tuple[list[Outgoing], list[Decision]]:
        now = now or datetime.now(UTC)
        event = decoded.event
        position = msg.position
        event_id = msg.header(h.ID) or position
        out: list[Outgoing] = []
        decisions = []
        # The banks of the governance in force: onboarding a bank is data, not code.
        for bank in gov.active_banks():
            decision = decide(event, bank, gov, profile, now, self.mask_keys)
            if decision.delivered:
                try:
                    out.extend(self._deliver(decoded, decision, gov, msg, position))
                except RegistryUnavailable:
                    raise  # wait for the registry: not a denial
                except SchemaError as exc:
                    # The bank schema could not be registered: deny, never deliver half.
                    decision = Decision(bank, Reason.error, detail=str(exc))
            decisions.append(decision)
            out.append(self.audit(event, decision, msg, event_id, position, gov, now))
        return out, decisions

    def _deliver(
        self, decoded: Decoded, decision: Decision, gov: Governance, msg: Source, position: str
    ) -> list[Outgoing]:
        event = decoded.event
        agreement = gov.agreements[decision.agreement_id or ""]
        grant = agreement.grant_for(event.category)
        assert grant is not None
        topic = names.bank_topic(decision.bank, event.category)
        schema_id, parsed, name = self._writer(
            agreement, grant, decision.bank, event.category, topic
        )
        op = decision.op or event.op
        # (name, record): fastavro writes the union's record branch without first
        # validating the whole record against each branch (a third of an encode).
        value = {
            "op": op,
            "before": None if decision.before is None else (name, decision.before),
            "after": None if decision.after is None else (name, decision.after),
            "source": decoded.source,
            "ts_ms": decoded.ts_ms,
        }
        encoded = encode_with(schema_id, parsed, value)
        headers = [(k, v) for k, v in msg.headers if k.startswith("ce_")]
        headers += [
            (h.AGREEMENT_ID, agreement.id.encode()),
            (h.PURPOSE, agreement.purpose.encode()),
            (h.SOURCE_POSITION, position.encode()),
        ]
        keep = grant.retention_days
        records = [Outgoing(topic, msg.key, encoded, headers, msg.partition, keep)]
        if op == "d":
            # The record left the bank's copy (deleted, or out of its filtered view).
            records.append(Outgoing(topic, msg.key, None, headers, msg.partition, keep))
        return records

    def _writer(
        self, agreement: Agreement, grant: Grant, bank: str, category: str, topic: str
    ) -> tuple[int, Any, str]:
        # One bank schema per (bank, category, agreement version): derived and registered once.
        key = (bank, category, agreement.id, agreement.version)
        writer = self._writers.get(key)
        if writer is None:
            schema = bank_schema(self.catalog, bank, grant)
            schema_id, parsed = self.serde.writer(names.value_subject(topic), schema)
            writer = self._writers[key] = (schema_id, parsed, _value_name(parsed))
        return writer

    def warm(self, gov: Governance) -> list[str]:
        """Derive and register, REGISTER_CONCURRENCY at a time, the bank schema of every
        grant of the active agreements not ready yet: at 300 categories, one after the
        other as deliveries met them, they held the loop for seconds at every start and
        every new agreement version. The problems (a grant whose schema the registry
        refuses); RegistryUnavailable when it cannot answer."""
        todo = [
            (agreement, grant)
            for agreement in gov.agreements.values()
            if agreement.status is Status.active
            for grant in agreement.grants
            if grant.category in self.catalog
            and (agreement.bank, grant.category, agreement.id, agreement.version)
            not in self._writers
        ]

        def one(item: tuple[Agreement, Grant]) -> str:
            agreement, grant = item
            topic = names.bank_topic(agreement.bank, grant.category)
            try:
                self._writer(agreement, grant, agreement.bank, grant.category, topic)
            except RegistryUnavailable:
                raise
            except SchemaError as exc:
                return f"{topic} under {agreement.id}: {exc}"
            return ""

        with ThreadPoolExecutor(max_workers=REGISTER_CONCURRENCY) as pool:
            return [problem for problem in pool.map(one, todo) if problem]

    def audit(
        self,
        event: Event,
        d: Decision,
        msg: Source,
        event_id: str,
        position: str,
        gov: Governance,
        now: datetime,
    ) -> Outgoing:
        """The audit record of one decision (or retraction), chained when a sealer is set."""
        delivered = [] if not d.delivered else sorted((d.after or d.before or {}).keys())
        # A retraction is sent to the bank (a delete): the audit counts it as delivered.
        sent = d.delivered or d.reason is Reason.retracted
        record = {
            "event_id": event_id,
            "category": event.category,
            "uscc": event.uscc,
            "op": event.op,
            "bank_op": d.op if sent else None,
            "bank": d.bank,
            "decision": "delivered" if sent else "denied",
            "reason": d.reason.value,
            "detail": d.detail,
            "agreement_id": d.agreement_id,
            "agreement_version": d.agreement_version,
            "purpose": d.purpose,
            "fields_delivered": delivered,
            "fields_masked": list(d.masked),
            "fields_dropped": list(d.dropped),
            "source": position,
            "governance_version": gov.version,
            # Milliseconds, as the audit's Avro keeps them: the chain's hash is over this.
            "decided_at": now.replace(microsecond=now.microsecond // 1000 * 1000),
        }
        partition = None
        if self.sealer is not None:
            self.sealer(record, msg)
            if self.audit_partitions:
                partition = audit_partition(str(record["chain"]), self.audit_partitions)
        value = encode_with(*self._audit_writer(), record)
        # The event id in a header too: readers can pick their events without decoding.
        headers = [(h.ID, event_id.encode()), (h.SOURCE_POSITION, position.encode())]
        return Outgoing(names.AUDIT, msg.key, value, headers, partition)

    def retraction_value(
        self, agreement: Agreement, grant: Grant, bank: str, topic: str, ts: datetime
    ) -> bytes:
        """A delete with neither side, in the bank's schema: the bank erases the key."""
        schema_id, parsed, _ = self._writer(agreement, grant, bank, grant.category, topic)
        source = {"agency": "sharebus", "system": "retraction", "sequence": 0}
        ts_ms = int(ts.timestamp() * 1000)
        value = {"op": "d", "before": None, "after": None, "source": source, "ts_ms": ts_ms}
        return encode_with(schema_id, parsed, value)

    def warm_up(self) -> None:
        """Ask the registry for the audit's schema and every category's versions: a
        registry that cannot answer raises RegistryUnavailable, and what it answers tells
        a bad schema id from one it has not loaded yet."""
        self._audit_writer()
        # Every category's versions, REGISTER_CONCURRENCY at a time (one after the other,
        # 300 categories held a start for seconds), with their schemas to read them.
        with ThreadPoolExecutor(max_workers=REGISTER_CONCURRENCY) as pool:
            list(pool.map(lambda c: self.serde.subject_ids(c.subject), self.catalog))

    def _audit_writer(self) -> tuple[int, Any]:
        if self._audit is None:
            self._audit = self.serde.writer(names.value_subject(names.AUDIT), audit_schema())
        return self._audit

    def _known(self, schema_id: int) -> None:
        """Before calling a schema id wrong: the registry knows it (another subject's), or
        it is above any id the registry has shown (bogus). Unknown at or below that, the
        registry is still loading: RegistryUnavailable, to wait."""
        try:
            self.serde.reader(schema_id)
        except UnknownSchemaError as exc:
            if schema_id <= self.serde.max_id:
                raise RegistryUnavailable(
                    f"the registry does not know schema id {schema_id} (yet): it is loading"
                ) from exc

    def dead_letter(self, msg: Source, reason: str) -> Outgoing:
        headers = [
            *msg.headers,
            (h.DLQ_REASON, reason[:1000].encode()),
            (h.DLQ_TOPIC, msg.topic.encode()),
            (h.SOURCE_POSITION, msg.position.encode()),
        ]
        return Outgoing(names.DLQ, msg.key, msg.value, headers)


def _value_name(parsed: Any) -> str:
    """The full name of an envelope's record type (`before` and `after` hold it)."""
    (before,) = [f["type"] for f in parsed["fields"] if f["name"] == "before"]
    (name,) = [t["name"] if isinstance(t, dict) else t for t in before if t != "null"]
    return str(name)


def profile_of(event: Event) -> dict[str, Any] | None:
    """The enterprise profile a registration event says (None: the enterprise is gone)."""
    if event.op == "d" or event.after is None:
        return None
    return profile_from_registration(event.after)
