"""Avro serde with Confluent framing, against confluent-kafka's in-memory registry."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from schemas.catalog import load_catalog
from schemas.derive import bank_envelope
from schemas.errors import DecodeError
from schemas.serde import AvroSerde, frame_id, registry_client

CAT = load_catalog().get("tax.payment-record")
RECORD = {
    "uscc": "91350100M000100Y43",
    "enterprise_name": "x",
    "period": "2026-01",
    "tax_type": "VAT",
    "amount_paid": Decimal("10.50"),
    "paid_at": datetime(2026, 1, 5, tzinfo=UTC),
    "voucher_no": "v",
    "tax_office": "o",
    "late_fee": None,
}


@pytest.fixture
def serde() -> AvroSerde:
    return AvroSerde(registry_client({"url": f"mock://{uuid.uuid4().hex}"}))


def envelope(after: dict[str, object]) -> dict[str, object]:
    source = {"agency": "tax", "system": "t", "sequence": 1}
    return {"op": "c", "before": None, "after": after, "source": source, "ts_ms": 1}


def test_round_trip_keeps_decimals_and_times(serde: AvroSerde) -> None:
    data = serde.encode(CAT.subject, CAT.envelope(), envelope(RECORD))
    assert data[0] == 0
    schema_id, value = serde.decode(data)
    assert schema_id == frame_id(data)
    assert value["after"]["amount_paid"] == Decimal("10.50")
    assert value["after"]["paid_at"] == datetime(2026, 1, 5, tzinfo=UTC)


def test_schema_registered_once_per_subject(serde: AvroSerde) -> None:
    first = serde.encode(CAT.subject, CAT.envelope(), envelope(RECORD))
    second = serde.encode(CAT.subject, CAT.envelope(), envelope(RECORD))
    assert frame_id(first) == frame_id(second)
    assert serde.registry.get_subjects() == [CAT.subject]


def test_bank_schema_is_a_projection_with_optional_fields(serde: AvroSerde) -> None:
    schema = bank_envelope(CAT, "ccb", ["uscc", "amount_paid"])
    value = envelope({"uscc": RECORD["uscc"], "amount_paid": None})
    _, decoded = serde.decode(serde.encode("bank.ccb.tax.payment-record-value", schema, value))
    assert decoded["after"] == {"uscc": RECORD["uscc"], "amount_paid": None}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x00\x00", "too short"),
        (b"garbage bytes", "magic byte 103"),
        (None, "tombstone"),
    ],
)
def test_bytes_that_are_not_framed_avro_are_a_decode_error(
    serde: AvroSerde, data: bytes | None, message: str
) -> None:
    with pytest.raises(DecodeError, match=message):
        serde.decode(data)


def test_unknown_schema_id_is_a_decode_error(serde: AvroSerde) -> None:
    with pytest.raises(DecodeError, match="schema id 99999 unknown"):
        serde.decode(b"\x00\x00\x01\x86\x9f" + b"\x00" * 8)
