"""The compiled writer of flat records writes what fastavro writes."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import fastavro
import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.errors import SchemaError
from schemas.flat_writer import compile_flat
from schemas.system import audit_schema

AUDIT = audit_schema()
PARSED = fastavro.parse_schema(AUDIT)
WRITE = compile_flat(AUDIT)
TEXT = st.text(max_size=20)
MAYBE = st.one_of(st.none(), TEXT)
NAMES = st.lists(st.text(max_size=8), max_size=4)
RECORDS = st.fixed_dictionaries(
    {
        "event_id": TEXT,
        "category": TEXT,
        "uscc": TEXT,
        "op": st.sampled_from("cudr"),
        "bank": TEXT,
        "decision": st.sampled_from(["delivered", "denied"]),
        "reason": TEXT,
        "agreement_id": MAYBE,
        "agreement_version": st.one_of(st.none(), st.integers(-(2**31), 2**31 - 1)),
        "purpose": MAYBE,
        "fields_delivered": NAMES,
        "fields_masked": NAMES,
        "fields_dropped": NAMES,
        "source": TEXT,
        "governance_version": st.integers(-(2**63), 2**63 - 1),
        "decided_at": st.datetimes(
            min_value=datetime(1900, 1, 1), timezones=st.sampled_from([UTC, None])
        ),
        "bank_op": st.one_of(st.none(), st.sampled_from("cud")),
    },
    optional={"detail": TEXT, "chain": TEXT, "prev_hash": TEXT, "hash": TEXT},
)


def fastavro_bytes(record: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, PARSED, record)
    return out.getvalue()


@given(st.lists(RECORDS, min_size=1, max_size=5))
def test_audit_records_are_written_as_fastavro_writes_them(records: list[dict[str, Any]]) -> None:
    assert WRITE is not None
    for record in records:  # several: values kept from one record serve the next
        assert WRITE(record) == fastavro_bytes(record)


def test_a_record_that_does_not_fit_is_refused() -> None:
    assert WRITE is not None
    good = {f["name"]: f.get("default", "x") for f in AUDIT["fields"]}
    good.update(decision="denied", governance_version=1, decided_at=0, op="c")
    WRITE(good)
    for field, wrong in (("decision", "maybe"), ("governance_version", "1"), ("bank", 3)):
        with pytest.raises(SchemaError):
            WRITE({**good, field: wrong})
    with pytest.raises(SchemaError):
        WRITE({k: v for k, v in good.items() if k != "bank"})


def test_a_nested_record_is_left_to_fastavro() -> None:
    nested = {"type": "record", "name": "Outer", "fields": [{"name": "inner", "type": AUDIT}]}
    assert compile_flat(nested) is None
