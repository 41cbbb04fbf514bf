"""Bank messages as typed events: changes, retractions, tombstones, backfill reads."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from consumers.dedup import SourcePosition
from consumers.events import Kind, from_message

TOPIC = "bank.spdb.tax.payment-record"
HEADERS = {
    "ce_id": "e-1",
    "ce_time": "2026-11-29T08:00:00.000Z",
    "ce_agreementid": "spdb-authorised-2026",
    "ce_purpose": "credit-assessment",
    "sharebus_source": "pub.tax.payment-record/1/41",
}
RECORD = {
    "uscc": "91310115MA1K4ABC12",
    "amount_paid": Decimal("1200.50"),
    "paid_at": datetime.fromisoformat("2026-05-02T03:04:05.678+00:00"),
    "period": date(2026, 4, 1),
}


def envelope(op: str, before: dict | None = None, after: dict | None = None) -> dict:  # type: ignore[type-arg]
    source = {"agency": "tax", "system": "t", "sequence": 1}
    return {"op": op, "before": before, "after": after, "source": source, "ts_ms": 1780000000123}


def test_a_change_carries_op_fields_agreement_and_source_position() -> None:
    event = from_message(TOPIC, 1, 7, b"91310115MA1K4ABC12", envelope("u", RECORD, RECORD), HEADERS)
    assert event.kind is Kind.change and event.op == "u"
    assert event.category == "tax.payment-record"
    assert event.agreement == "spdb-authorised-2026" and event.purpose == "credit-assessment"
    assert event.source == SourcePosition("pub.tax.payment-record", 1, 41)
    assert event.record == RECORD
    row = event.as_json()
    assert row["changed_at"] == "2026-05-28T20:26:40.123Z"
    assert row["after"]["amount_paid"] == "1200.50"
    assert row["after"]["paid_at"] == "2026-05-02T03:04:05.678Z"
    assert row["after"]["period"] == "2026-04-01"


def test_a_delete_has_no_current_record() -> None:
    event = from_message(TOPIC, 1, 8, b"k", envelope("d", before=RECORD), HEADERS)
    assert (event.kind, event.op, event.record) == (Kind.change, "d", None)


def test_a_tombstone_is_an_event_of_its_own_kind() -> None:
    event = from_message(TOPIC, 1, 9, b"91310115MA1K4ABC12", None, HEADERS)
    assert event.kind is Kind.tombstone
    assert event.op is None and event.after is None and event.record is None
    assert event.key == "91310115MA1K4ABC12"
    assert event.as_json()["kind"] == "tombstone"


def test_a_retraction_names_its_reason_and_governance_version() -> None:
    headers = {
        **HEADERS,
        "sharebus_retraction": "consent-revoked",
        "sharebus_governance_version": "1790000000000",
    }
    event = from_message(TOPIC, 1, 10, b"k", envelope("d", before=RECORD), headers)
    assert event.kind is Kind.retraction
    assert event.reason == "consent-revoked"
    assert event.governance_version == 1790000000000
    assert event.record is None


def test_a_backfill_read_names_its_run() -> None:
    headers = {**HEADERS, "sharebus_backfill": "spdb-authorised-2026.20261129T080000Z.ab12cd"}
    event = from_message(TOPIC, 0, 3, b"k", envelope("r", after=RECORD), headers)
    assert (event.kind, event.op) == (Kind.change, "r")
    assert event.backfill == "spdb-authorised-2026.20261129T080000Z.ab12cd"
    assert event.record == RECORD
