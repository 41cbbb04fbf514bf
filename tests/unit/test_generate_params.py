"""What each parameter of a meaning does to generated records, on small made-up categories
(the shipped catalog may not use every parameter)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from typing import Any

from fastavro import parse_schema
from fastavro.validation import validate

from schemas.catalog import Category, parse_category
from synthetic.generate import REFERENCE, population, records

PEOPLE = population(300, seed=5)
MONEY = {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 2}
DATE = {"type": "int", "logicalType": "date"}


def category(*fields: dict[str, Any], **record: Any) -> Category:
    """A category of the given fields after the key and the name, each documented."""
    head = [
        {"name": "uscc", "type": "string", "meaning": "uscc"},
        {"name": "enterprise_name", "type": "string", "meaning": "enterprise-name"},
    ]
    for f in [*head, *fields]:
        f.setdefault("sensitivity", "public")
        f.setdefault("doc", "A field. 字段")
    schema = {"type": "record", "name": "Made", "namespace": "sharebus.stc",
              "title": {"en": "Made up", "zh": "合成"}, "doc": "Made up. 合成",
              "fields": [*head, *fields], **record}  # fmt: skip
    return parse_category("stc", "made-up", json.dumps(schema, ensure_ascii=False))


def enum(name: str, *symbols: str) -> dict[str, Any]:
    return {"type": "enum", "name": name, "doc": "Kinds. 种类", "symbols": list(symbols)}


def made(cat: Category, count: int = 400, people: list[Any] = PEOPLE) -> list[dict[str, Any]]:
    parsed = parse_schema(cat.record)
    out = list(records(cat, people, count, seed=1))
    for record in out:
        validate(record, parsed, raise_errors=True)
    return out


def test_a_field_that_must_have_a_value_has_one_whatever_its_condition() -> None:
    cat = category(
        {"name": "kind", "type": enum("Kind", "A", "B"), "meaning": "category"},
        {"name": "note", "type": "string", "meaning": "text", "when": {"kind": ["A"]}},
        {"name": "extra", "type": ["null", "string"], "default": None, "meaning": "text",
         "when": {"kind": ["A"]}},
        {"name": "flagged", "type": "boolean", "meaning": "flag", "share": 1.0,
         "when": {"kind": ["A"]}},
    )  # fmt: skip
    for r in made(cat):
        assert r["note"]
        assert (r["extra"] is not None) == (r["kind"] == "A")
        assert r["flagged"] == (r["kind"] == "A")


def test_fields_that_ask_for_each_other_still_make_valid_records() -> None:
    cat = category(
        {"name": "a", "type": MONEY, "meaning": "money", "sum_of": ["b"]},
        {"name": "b", "type": MONEY, "meaning": "money", "sum_of": ["a"]},
    )
    assert all(r["a"] >= 0 and r["b"] >= 0 for r in made(cat, 20))


def test_an_own_number_is_the_same_in_every_record_about_the_enterprise() -> None:
    cat = category({"name": "account", "type": "string", "meaning": "doc-no",
                    "pattern": "{dcode}{seq10}", "own": True})  # fmt: skip
    accounts: dict[str, set[str]] = {}
    for r in made(cat, 900):
        accounts.setdefault(r["uscc"], set()).add(r["account"])
    assert all(len(numbers) == 1 for numbers in accounts.values())
    assert len({n for numbers in accounts.values() for n in numbers}) == len(accounts)


def test_a_follow_up_without_a_status_comes_as_often_as_present_says_and_has_happened() -> None:
    cat = category(
        {"name": "on", "type": DATE, "meaning": "event-date"},
        {"name": "done", "type": ["null", DATE], "default": None, "meaning": "follow-up-date",
         "days": [5, 30], "present": 0.5},
    )  # fmt: skip
    out = made(cat, 2000)
    done = [r for r in out if r["done"] is not None]
    assert 0.4 <= len(done) / len(out) <= 0.55  # fewer: some would close after the reference
    assert all(r["on"] + dt.timedelta(days=5) <= r["done"] <= REFERENCE for r in done)


def test_an_adverse_rating_is_one_of_the_worse_half_in_a_record_that_reports_trouble() -> None:
    cat = category(
        {"name": "rating", "type": enum("Grade", "A", "B", "C", "D"), "meaning": "rating",
         "weights": {"A": 50, "B": 40, "C": 9, "D": 1}, "adverse": True},
        {"name": "trouble", "type": "boolean", "meaning": "flag", "adverse": True},
        {"name": "score", "type": "int", "meaning": "score", "range": [0, 100]},
    )  # fmt: skip
    out = made(cat, 3000)
    assert all(r["rating"] in ("C", "D") for r in out if r["trouble"])
    assert Counter(r["rating"] for r in out if not r["trouble"])["A"] > 1000
    bands = {"A": (75, 100), "B": (50, 75), "C": (25, 50), "D": (0, 25)}
    assert all(bands[r["rating"]][0] <= r["score"] <= bands[r["rating"]][1] for r in out)


def test_choices_by_another_field_fall_back_to_the_star_then_to_the_meaning() -> None:
    cat = category(
        {"name": "kind", "type": enum("Kind", "A", "B", "C"), "meaning": "category"},
        {"name": "what", "type": "string", "meaning": "doc-no", "by": "kind",
         "choices": {"A": ["A-{seq3}"], "B": ["B"]}, "pattern": "X{seq2}"},
        {"name": "label", "type": "string", "meaning": "name", "by": "kind",
         "choices": {"A": ["甲"], "*": ["其他"]}},
    )  # fmt: skip
    for r in made(cat):
        wanted = {"A": r"A-\d{3}", "B": "B", "C": r"X\d{2}"}[r["kind"]]
        assert re.fullmatch(wanted, r["what"])
        assert r["label"] == ("甲" if r["kind"] == "A" else "其他")


def test_a_scaled_category_runs_from_small_to_large_with_the_size_class() -> None:
    cat = category({"name": "band", "type": enum("Band", "S1", "S2", "S3", "S4", "S5", "S6"),
                    "meaning": "category", "scaled": True})  # fmt: skip
    by_scale: dict[str, list[int]] = {}
    symbols = ["S1", "S2", "S3", "S4", "S5", "S6"]
    for r, ent in ((r, next(e for e in PEOPLE if e.uscc == r["uscc"])) for r in made(cat)):
        by_scale.setdefault(ent.scale, []).append(symbols.index(r["band"]))
    means = [sum(v) / len(v) for v in (by_scale[s] for s in ("MICRO", "SMALL", "MEDIUM"))]
    assert means == sorted(means) and max(by_scale["LARGE"]) >= 4


def test_periods_of_every_form_follow_the_event_date() -> None:
    cat = category(
        {"name": "on", "type": DATE, "meaning": "event-date"},
        {"name": "month", "type": "string", "meaning": "period", "offset": -1},
        {"name": "quarter", "type": "string", "meaning": "period", "format": "quarter",
         "offset": -1},
        {"name": "half", "type": "string", "meaning": "period", "format": "half"},
        {"name": "year", "type": "string", "meaning": "period", "format": "year", "offset": -2},
    )  # fmt: skip
    for r in made(cat):
        on: dt.date = r["on"]
        last_month = on.replace(day=1) - dt.timedelta(days=1)
        q = (on.month - 1) // 3
        assert r["month"] == f"{last_month:%Y-%m}"
        assert r["quarter"] == (f"{on.year}Q{q}" if q else f"{on.year - 1}Q4")
        assert r["half"] == f"{on.year}H{1 if on.month <= 6 else 2}"
        assert r["year"] == str(on.year - 2)


def test_an_amount_per_unit_and_a_percent_share_follow_their_fields() -> None:
    cat = category(
        {"name": "staff", "type": "int", "meaning": "headcount"},
        {"name": "wages", "type": MONEY, "meaning": "money", "per": "staff", "typical": 8000,
         "spread": 1.5},
        {"name": "rate", "type": "int", "meaning": "percent", "choices": [5, 7, 12]},
        {"name": "fund", "type": MONEY, "meaning": "money", "part_of": "wages", "share": "rate"},
        {"name": "fine", "type": MONEY, "meaning": "money", "typical": 5000, "round": 1000,
         "scaling": 0},
    )  # fmt: skip
    for r in made(cat):
        per_head = float(r["wages"]) / r["staff"]
        assert 8000 / 1.5 - 0.01 <= per_head <= 8000 * 1.5 + 0.01
        assert abs(r["fund"] - r["wages"] * r["rate"] / 100) <= 0.01
        assert r["fine"] % 1000 == 0 and 1000 <= r["fine"] <= 20000  # 5,000 spread 4, not scaled


def test_a_registration_like_record_counts_its_term_from_the_establishment() -> None:
    cat = category(
        {"name": "since", "type": DATE, "meaning": "established-on"},
        {"name": "until", "type": DATE, "meaning": "end-date", "years": [20, 20]},
        describes="enterprise",
    )
    for r in made(cat, 50):
        assert r["until"] == r["since"].replace(year=r["since"].year + 20) - dt.timedelta(days=1)


def test_an_adverse_status_names_the_trouble_in_a_record_that_reports_it() -> None:
    cat = category(
        {"name": "status", "type": enum("Payment", "PAID", "NOT_DUE", "PENDING", "OVERDUE"),
         "meaning": "status", "weights": {"PAID": 90, "NOT_DUE": 5, "PENDING": 5, "OVERDUE": 0},
         "closed": ["PAID"], "adverse": True},
        {"name": "other", "type": enum("Case", "OPEN", "CLOSED"), "meaning": "status",
         "weights": {"OPEN": 1, "CLOSED": 99}, "adverse": True},
        {"name": "trouble", "type": "boolean", "meaning": "flag", "adverse": True},
    )  # fmt: skip
    out = made(cat, 2000)
    assert {r["status"] for r in out if not r["trouble"]} <= {"PAID", "NOT_DUE", "PENDING"}
    assert all(r["other"] == "OPEN" for r in out if r["trouble"])  # no trouble word: open
    assert {r["status"] for r in out if r["trouble"]} == {"OVERDUE"}
