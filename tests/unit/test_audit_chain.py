"""The audit chain finds an entry altered, one removed and one inserted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from streams.audit_chain import GENESIS, seal, verify


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
