"""The audit chain finds an entry altered, one removed and one inserted."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from streams.audit_chain import GENESIS, canonical, seal, verify


def chain(n: int, name: str = "pub.tax.payment-record/0") -> list[tuple[str, dict[str, Any]]]:
    head = GENESIS
    out = []
    for i in range(n):
        record: dict[str, Any] = {
            "event_id": f"e{i}",
            "bank": "ccb",
            "reason": "delivered",
            "decided_at": datetime(2026, 6, 1, 12, 0, i, 123000, tzinfo=UTC),
        }
        head = seal(record, name, head)
        out.append((f"sharebus.audit/0/{i}", record))
    return out


def test_an_untouched_chain_is_intact() -> None:
    checked, problems = verify(chain(5) + chain(3, "pub.hrss.social-insurance/2"))
    assert (checked, problems) == (8, [])


def test_an_altered_entry_is_found_where_it_is() -> None:
    entries = chain(5)
    entries[2][1]["reason"] = "filtered"
    (problem,) = verify(entries)[1]
    assert problem.position == "sharebus.audit/0/2" and problem.what.startswith("altered")


def test_a_removed_entry_is_found_at_the_one_after_it() -> None:
    entries = chain(5)
    del entries[2]
    (problem,) = verify(entries)[1]
    assert problem.position == "sharebus.audit/0/3" and "removed" in problem.what


def test_an_inserted_entry_is_found_even_with_a_right_hash() -> None:
    entries = chain(5)
    forged: dict[str, Any] = {"event_id": "forged", "bank": "ccb", "reason": "delivered"}
    seal(forged, "pub.tax.payment-record/0", entries[1][1]["hash"])
    entries.insert(2, ("sharebus.audit/0/99", forged))
    (problem,) = verify(entries)[1]
    assert problem.position == "sharebus.audit/0/2" and "inserted" in problem.what


VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.text(),
    st.lists(st.text(max_size=5), max_size=3),
    st.lists(st.one_of(st.integers(), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.datetimes(timezones=st.sampled_from([UTC, None])),
    st.dates(),
    st.decimals(allow_nan=False, places=2),
)
KEYS = st.sampled_from(["event_id", "bank", "hash", "chain", "prev_hash", "decided_at", "é", "a b"])


@given(st.lists(st.dictionaries(KEYS, VALUES, max_size=8), min_size=1, max_size=4))
def test_the_canonical_text_is_what_json_writes_sorted_and_unescaped(records: list[Any]) -> None:
    # Records already in the audit were hashed over json.dumps' text: it must not move.
    def text(value: Any) -> str:
        return value.isoformat() if isinstance(value, datetime | date) else str(value)

    for record in records:
        body = {k: v for k, v in record.items() if k != "hash"}
        assert canonical(record) == json.dumps(
            body, sort_keys=True, ensure_ascii=False, default=text
        )
