"""Event ids of `sharebus publish`: the same line gives the same id on every run, and
nothing but what the event is (and its place in the file) changes it."""

from __future__ import annotations

import io
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from producers.coerce import to_json
from producers.files import read_lines
from producers.ids import canonical_json, check_given_id, event_id
from schemas.catalog import load_catalog
from synthetic.generate import population, records

CAT = load_catalog().get("tax.payment-record")
USCC = "91350100M000100Y43"
AFTER = {"uscc": USCC, "amount_paid": Decimal("10.50"), "period": "2026-01"}


def an_id(**changes: object) -> str:
    args: dict[str, object] = {
        "agency": "tax",
        "category": CAT.id,
        "key": USCC,
        "op": "c",
        "before": None,
        "after": AFTER,
        "place": 7,
    }
    args.update(changes)
    return event_id(**args)  # type: ignore[arg-type]


def test_the_same_event_has_the_same_id_whatever_the_order_of_its_fields() -> None:
    reordered = dict(reversed(list(AFTER.items())))
    assert an_id() == an_id(after=reordered)
    assert uuid.UUID(an_id()).version == 5


@pytest.mark.parametrize(
    "change",
    [
        {"agency": "hrss"},
        {"category": "tax.invoice"},
        {"key": "91310107MAMJ87NT02"},
        {"op": "u"},
        {"before": AFTER},
        {"after": {**AFTER, "amount_paid": Decimal("10.51")}},
        {"place": 8},
    ],
)
def test_anything_that_makes_another_event_makes_another_id(change: dict[str, object]) -> None:
    assert an_id(**change) != an_id()


def test_one_value_written_two_ways_is_one_id() -> None:
    """10.5 and 10.50 are one amount; an instant in another zone is the same instant."""
    assert an_id(after={**AFTER, "amount_paid": Decimal("10.5")}) == an_id()
    utc = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    local = utc.astimezone(datetime.now().astimezone().tzinfo)
    assert an_id(after={**AFTER, "at": utc}) == an_id(after={**AFTER, "at": local})
    assert canonical_json({"b": 1, "a": Decimal("100")}) == '{"a":"100","b":1}'


def test_a_file_read_twice_gives_every_line_the_same_event() -> None:
    text = (
        f'{{"uscc": "{USCC}", "tax_type": "vat", "amount_paid": "10.50"}}\n'
        f'{{"op": "u", "after": {{"uscc": "{USCC}"}}, "event_id": "erp-42"}}\n'
    ).encode()
    first = [line.event for line in read_lines(io.BytesIO(text), "jsonl", CAT, "c")]
    second = [line.event for line in read_lines(io.BytesIO(text), "jsonl", CAT, "c")]
    assert first == second
    assert first[1] is not None and first[1].event_id == "erp-42"
    assert first[0] is not None and first[0].event_id is None


def test_a_csv_line_may_carry_its_own_id_in_an_event_id_column() -> None:
    record = json.loads(to_json(next(iter(records(CAT, population(5, seed=3), 1, seed=3)))))
    columns = [*record, "event_id"]
    rows = [",".join(columns)]
    rows += [",".join([*(str(v or "") for v in record.values()), given]) for given in ("erp-7", "")]
    text = ("\n".join(rows) + "\n").encode()
    events = [line.event for line in read_lines(io.BytesIO(text), "csv", CAT, "c")]
    assert [e.event_id if e else "rejected" for e in events] == ["erp-7", None]
    assert events[0] is not None and "event_id" not in (events[0].after or {})


@pytest.mark.parametrize("bad", ["", "  ", 42, "x" * 201, "tab\there"])
def test_an_id_of_its_own_must_be_a_short_printable_string(bad: object) -> None:
    with pytest.raises(ValueError, match="event_id must be"):
        check_given_id(bad)
    line = next(
        read_lines(
            io.BytesIO(canonical_json({"uscc": USCC, "event_id": bad}).encode() + b"\n"),
            "jsonl",
            CAT,
            "c",
        )
    )
    assert line.event is None and line.problem is not None and "event_id" in line.problem
