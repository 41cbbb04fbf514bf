"""Records of every category of the catalog keep what their fields' meanings promise.

Run for each category the catalog holds, so a category added as data is covered as soon
as it is there. The checks are written from the meanings' definitions (schemas/meanings.py),
not from the generator's code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import statistics
from decimal import Decimal
from typing import Any

import pytest
from fastavro import parse_schema
from fastavro.validation import validate

from foundation.settings import PROJECT_ROOT
from schemas.catalog import Category, Field, load_catalog
from schemas.meaning_checks import enum_symbols
from schemas.uscc import is_valid
from synthetic.generate import REFERENCE, Enterprise, population, records
from synthetic.meaning_enums import closed_symbols
from synthetic.plan import plan_of

CATALOG = load_catalog()
PEOPLE = population(200, seed=3)
BY_USCC = {e.uscc: e for e in PEOPLE}
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
FACTOR = {"MICRO": 1, "SMALL": 6, "MEDIUM": 40, "LARGE": 250}
IDENTITY = {
    "uscc": "uscc",
    "enterprise-name": "name",
    "legal-representative": "legal_representative_name",
    "legal-representative-id": "legal_representative_id_no",
    "district": "district",
    "industry-code": "industry_code",
    "enterprise-scale": "scale",
}
HAPPENED = ("event-date", "follow-up-date", "earlier-date", "established-on")
PERIOD_RE = {
    "month": r"\d{4}-(0[1-9]|1[0-2])",
    "quarter": r"\d{4}Q[1-4]",
    "half": r"\d{4}H[12]",
    "year": r"\d{4}",
}
# What each placeholder of a pattern stands for, to read a number back.
PLACEHOLDER_RE = {
    "year": r"\d{4}",
    "month": r"(0[1-9]|1[0-2])",
    "day": r"(0[1-9]|[12]\d|3[01])",
    "district": r"\w",
    "district_name": r"\w+?[区县]",
    "dcode": r"31\d{4}",
    "road": r"\w+?",
    "court": r"沪01\d\d",
    "A": r"[A-Z]",
    "trade": r"\w{2}",
    "uscc": r"[0-9A-Z]{18}",
    "industry_code": r"[A-Z]\d{4}",
    "industry": r".+?",
    "scope": r".+?",
}


def day_of(value: Any) -> dt.date | None:
    """The (Shanghai) day of a date, an instant or ISO text; None for anything else."""
    if isinstance(value, dt.datetime):
        return value.astimezone(SHANGHAI).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return Decimal(str(value))


def of(category: Category, meaning: str) -> list[Field]:
    return [f for f in category.fields if f.meaning == meaning]


def shift_period(day: dt.date, form: str, offset: int) -> str:
    """The period `offset` periods after the one holding `day`, written out again here."""
    if form == "year":
        return str(day.year + offset)
    months = {"month": 1, "quarter": 3, "half": 6}[form]
    first = (day.year * 12 + day.month - 1) // months * months + offset * months
    year, month = divmod(first, 12)
    if form == "month":
        return f"{year}-{month + 1:02d}"
    return f"{year}{'Q' if form == 'quarter' else 'H'}{month // months + 1}"


def pattern_re(pattern: str) -> re.Pattern[str]:
    out, at = "", 0
    for m in re.finditer(r"\{(\w+?)(\d*)\}", pattern):
        out += re.escape(pattern[at : m.start()])
        word, digits = m.groups()
        out += rf"\d{{{digits}}}" if word == "seq" else PLACEHOLDER_RE[word + digits]
        at = m.end()
    return re.compile(out + re.escape(pattern[at:]))


def resident_id_ok(number: str) -> bool:
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], weights, strict=True))
    return number[17] == "10X98765432"[total % 11]


def event_day(category: Category, record: dict[str, Any]) -> dt.date | None:
    events = of(category, "event-date")
    return day_of(record[events[0].name]) if events else None


def check_enterprise(category: Category, record: dict[str, Any], ent: Enterprise) -> None:
    for meaning, attribute in IDENTITY.items():
        for f in of(category, meaning):
            assert record[f.name] == getattr(ent, attribute), f"{category.id}.{f.name}"
    for f in of(category, "established-on"):
        assert day_of(record[f.name]) == ent.established_on
    assert is_valid(record["uscc"])
    for meaning in ("legal-representative-id", "id-number"):
        for f in of(category, meaning):
            assert record[f.name] is None or resident_id_ok(record[f.name]), record[f.name]


def check_dates(category: Category, record: dict[str, Any], ent: Enterprise) -> None:
    event = event_day(category, record)
    for meaning in HAPPENED:
        for f in of(category, meaning):
            day = day_of(record[f.name])
            assert day is None or ent.established_on <= day <= REFERENCE, f"{f.name}: {day}"
    if event is None:
        return
    for meaning in ("start-date", "later-date", "follow-up-date"):
        for f in of(category, meaning):
            day = day_of(record[f.name])
            assert day is None or day >= event, f"{category.id}.{f.name} before the event"
    for f in of(category, "earlier-date"):
        assert day_of(record[f.name]) <= event, f"{category.id}.{f.name} after the event"
    starts = [day_of(record[f.name]) for f in of(category, "start-date")]
    begin = starts[0] if starts else event
    if plan_of(category).describes_enterprise and not starts:
        begin = ent.established_on
    for f in of(category, "end-date"):
        end = day_of(record[f.name])
        assert end is None or begin is None or end >= begin, f"{category.id}.{f.name} < start"
    for f in of(category, "year"):
        wanted = event.year + int(f.params.get("offset", 0))
        assert record[f.name] == max(ent.established_on.year, min(wanted, REFERENCE.year))
    for f in of(category, "period"):
        form, offset = f.params.get("format", "month"), int(f.params.get("offset", 0))
        assert record[f.name] == shift_period(event, form, offset), f"{category.id}.{f.name}"


def check_periods_written_right(category: Category, record: dict[str, Any]) -> None:
    for f in of(category, "period"):
        form = f.params.get("format", "month")
        assert re.fullmatch(PERIOD_RE[form], record[f.name]), f"{f.name}: {record[f.name]}"


def check_status(category: Category, record: dict[str, Any]) -> None:
    """Follow-up dates exist once the matter is closed, and only then; a status that
    lapses with its term has lapsed exactly when the term has ended."""
    statuses = [f for f in of(category, "status") if enum_symbols(f.type)]
    if not statuses:
        return
    status = statuses[0]
    closed = closed_symbols(plan_of(category).specs[status.name])
    value = record[status.name]
    for f in of(category, "follow-up-date"):
        if record[f.name] is not None:
            assert value in closed, f"{category.id}: {f.name} set while {value}"
        elif f.optional:
            assert value not in closed, f"{category.id}: {f.name} empty while {value}"
    ends = of(category, "end-date")
    symbols = enum_symbols(status.type) or []
    expired = [s for s in status.params.get("expired", ["EXPIRED"]) if s in symbols]
    if expired and ends and record[ends[0].name] is not None:
        lapsed = day_of(record[ends[0].name]) < REFERENCE
        assert (value in expired) == lapsed, f"{category.id}: {value} with the term's end"


def check_amounts(category: Category, record: dict[str, Any]) -> None:
    for f in category.fields:
        value = number(record[f.name])
        if f.meaning in ("money", "area") and value is not None:
            assert value > 0 or "sum_of" in f.params, f"{category.id}.{f.name} = {value}"
        if value is None:
            continue
        if "part_of" in f.params and number(record[f.params["part_of"]]) is not None:
            whole = number(record[f.params["part_of"]])
            assert 0 <= value <= whole, f"{category.id}.{f.name} {value} > {whole}"
            if isinstance(f.params.get("share"), str):
                percent = number(record[f.params["share"]]) or 0
                assert abs(value - whole * percent / 100) <= Decimal("0.01")
        if "sum_of" in f.params:
            parts = [
                (-1 if n.startswith("-") else 1) * (number(record[n.removeprefix("-")]) or 0)
                for n in f.params["sum_of"]
            ]
            assert abs(value - max(Decimal(0), sum(parts, Decimal(0)))) <= Decimal("0.01")


def check_conditions(category: Category, record: dict[str, Any]) -> None:
    for f in category.fields:
        value = record[f.name]
        conditional = f.optional or f.meaning == "flag"  # others have a value regardless
        if "when" not in f.params or not conditional or value is None or value is False:
            continue
        for other, wanted in f.params["when"].items():
            held = record[other]
            if isinstance(wanted, bool):
                assert (held is not None and held is not False) == wanted, f"{f.name}/{other}"
            else:
                assert held in wanted, f"{category.id}.{f.name} set while {other} = {held}"


def check_text(category: Category, record: dict[str, Any]) -> None:
    for f in category.fields:
        value = record[f.name]
        if isinstance(value, str):
            assert "{" not in value and "}" not in value, f"{category.id}.{f.name}: {value}"
        if f.meaning == "doc-no" and "pattern" in f.params and isinstance(value, str):
            assert pattern_re(f.params["pattern"]).fullmatch(value), f"{f.name}: {value}"


@pytest.mark.parametrize("category_id", CATALOG.ids)
def test_records_keep_what_their_meanings_promise(category_id: str) -> None:
    category = CATALOG.get(category_id)
    parsed = parse_schema(category.record)
    for record in records(category, PEOPLE, 120, seed=19):
        validate(record, parsed, raise_errors=True)
        ent = BY_USCC[record["uscc"]]
        check_enterprise(category, record, ent)
        check_dates(category, record, ent)
        check_periods_written_right(category, record)
        check_status(category, record)
        check_amounts(category, record)
        check_conditions(category, record)
        check_text(category, record)


def scaled_money(category: Category) -> list[Field]:
    plain = ("part_of", "per", "sum_of")
    return [
        f
        for f in of(category, "money")
        if not any(k in f.params for k in plain) and float(f.params.get("scaling", 1)) > 0
    ]


@pytest.mark.parametrize(
    "category_id", [c.id for c in CATALOG if scaled_money(c)] or ["no category has such money"]
)
def test_money_grows_with_the_size_class(category_id: str) -> None:
    """The same records for the same enterprise made large instead of micro: each amount
    is larger by the size factor to the power of its `scaling`."""
    category = CATALOG.get(category_id)
    micro = [e for e in PEOPLE if e.scale == "MICRO"][:40]
    large = [dataclasses.replace(e, scale="LARGE") for e in micro]
    small_ones = list(records(category, micro, 200, seed=5))
    large_ones = list(records(category, large, 200, seed=5))
    for f in scaled_money(category):
        ratios = [
            float(b[f.name]) / float(a[f.name])
            for a, b in zip(small_ones, large_ones, strict=True)
            if a[f.name] and b[f.name]
        ]
        if not ratios:
            continue
        expected = FACTOR["LARGE"] ** float(f.params.get("scaling", 1))
        assert 0.5 * expected <= statistics.median(ratios) <= 2 * expected, f.name


def test_about_one_record_in_twelve_reports_trouble() -> None:
    flags = [(c, f) for c in CATALOG for f in of(c, "flag") if f.params.get("adverse")]
    assert flags, "the shipped catalog has adverse flags"
    for category, f in flags:
        made = list(records(category, PEOPLE, 1000, seed=2))
        share = sum(1 for r in made if r[f.name]) / len(made)
        assert 0.04 <= share <= 0.13, f"{category.id}.{f.name}: {share:.1%}"


@pytest.mark.parametrize("category_id", [c.id for c in CATALOG if plan_of(c).describes_enterprise])
def test_a_record_about_the_enterprise_is_the_same_every_time(category_id: str) -> None:
    category = CATALOG.get(category_id)
    two_rounds = list(records(category, PEOPLE[:20], 40, seed=9))
    first = {r["uscc"]: r for r in two_rounds[:20]}
    assert all(first[r["uscc"]] == r for r in two_rounds[20:])


def test_no_module_of_the_generator_names_a_category() -> None:
    sources = {p: p.read_text("utf-8") for p in (PROJECT_ROOT / "synthetic").rglob("*.py")}
    agencies = "|".join(sorted({c.agency for c in CATALOG}))
    named = re.compile(rf"""["'`]({agencies})\.[a-z]""")
    found = [
        f"{path.name}: {hit}"
        for path, text in sources.items()
        for hit in [*(i for i in CATALOG.ids if i in text), *named.findall(text)]
    ]
    assert len(sources) >= 5 and found == []


def test_the_check_finds_a_category_named_in_code() -> None:
    agencies = "|".join(sorted({c.agency for c in CATALOG}))
    assert re.search(rf"""["'`]({agencies})\.[a-z]""", 'if category == "tax.arrears":')
    assert any(i in 'RULES = {"market.registration": 1}' for i in CATALOG.ids)
