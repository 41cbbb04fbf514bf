"""Synthetic data: valid codes, a realistic mix, determinism, and records every schema takes."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from decimal import Decimal
from itertools import islice

import pytest
from fastavro.validation import validate
from hypothesis import given, settings
from hypothesis import strategies as st

from producers.validate import check_record
from schemas.catalog import Category, load_catalog, parse_category
from schemas.serde import parse_schema
from schemas.uscc import is_valid
from synthetic import names_zh
from synthetic.generate import Enterprise, population, records

CATALOG = load_catalog()
POPULATION = population(300)


def id_check(number: str) -> str:
    """ISO 7064 MOD 11-2, written out again so the test does not trust the code it tests."""
    weights = [2 ** (17 - i) % 11 for i in range(17)]
    return "10X98765432"[sum(int(d) * w for d, w in zip(number[:17], weights, strict=True)) % 11]


def test_usccs_are_valid_unique_and_say_where_the_enterprise_is() -> None:
    people = population(2000)
    assert all(is_valid(e.uscc) for e in people)
    assert len({e.uscc for e in people}) == len(people)
    assert len({e.name for e in people}) == len(people)
    for e in people:
        assert e.uscc[:2] in ("91", "92")
        assert e.uscc[2:8] == names_zh.DISTRICT_BY_NAME[e.district].code


def test_the_scale_mix_is_mostly_micro_and_small() -> None:
    shares = Counter(e.scale for e in population(2000))
    assert abs(shares["MICRO"] / 2000 - 0.60) < 0.05
    assert abs(shares["SMALL"] / 2000 - 0.25) < 0.04
    assert abs(shares["MEDIUM"] / 2000 - 0.10) < 0.03
    assert abs(shares["LARGE"] / 2000 - 0.05) < 0.02


def test_enterprises_look_like_shanghai_enterprises() -> None:
    for e in POPULATION:
        assert e.name.startswith("上海")
        assert e.district in names_zh.DISTRICT_BY_NAME
        assert e.industry_code in names_zh.INDUSTRY_BY_CODE
        assert dt.date(1990, 1, 1) <= e.established_on <= dt.date(2025, 6, 30)
        assert 2 <= len(e.legal_representative_name) <= 3
    assert Counter(e.status for e in POPULATION).most_common(1)[0][0] == "ACTIVE"


def test_resident_id_numbers_have_valid_check_characters_and_birth_dates() -> None:
    for e in population(1000):
        number = e.legal_representative_id_no
        assert len(number) == 18 and number[:17].isdigit()
        assert number[17] == id_check(number)
        born = dt.datetime.strptime(number[6:14], "%Y%m%d").date()
        assert 18 <= (dt.date(2025, 6, 30) - born).days // 365 <= 70


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data() -> None:
    assert population(200, seed=7) == population(200, seed=7)
    assert population(200, seed=7) != population(200, seed=8)
    category = CATALOG.get("tax.payment-record")
    assert list(records(category, POPULATION, 40, seed=3)) == list(
        records(category, POPULATION, 40, seed=3)
    )
    assert list(records(category, POPULATION, 40, seed=3)) != list(
        records(category, POPULATION, 40, seed=4)
    )


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_any_seed_gives_valid_enterprises(seed: int) -> None:
    for e in population(20, seed=seed):
        assert is_valid(e.uscc)
        assert e.legal_representative_id_no[17] == id_check(e.legal_representative_id_no)


def test_records_take_distinct_enterprises_until_all_had_one() -> None:
    category = CATALOG.get("market.annual-report")
    usccs = [r["uscc"] for r in records(category, POPULATION, len(POPULATION))]
    assert sorted(usccs) == sorted(e.uscc for e in POPULATION)


def test_no_enterprises_no_records() -> None:
    with pytest.raises(ValueError, match="at least one enterprise"):
        next(records(CATALOG.get("tax.arrears"), [], 1))


@pytest.mark.parametrize("category_id", CATALOG.ids)
def test_every_category_gets_records_its_schema_and_the_publisher_accept(
    category_id: str,
) -> None:
    category = CATALOG.get(category_id)
    parsed = parse_schema(category.record)
    generated = list(records(category, POPULATION, 50, seed=11))
    assert len(generated) == 50
    by_uscc = {e.uscc: e for e in POPULATION}
    for record in generated:
        validate(record, parsed, raise_errors=True)
        check_record(category, record)
        assert record["enterprise_name"] == by_uscc[record["uscc"]].name
        for value in record.values():
            if isinstance(value, Decimal):
                assert value.as_tuple().exponent == -2
            if isinstance(value, dt.datetime):
                assert value.utcoffset() == dt.timedelta(0)


def test_registrations_agree_with_their_enterprise() -> None:
    by_uscc = {e.uscc: e for e in POPULATION}
    category = CATALOG.get("market.registration")
    for record in records(category, POPULATION, len(POPULATION)):
        e = by_uscc[record["uscc"]]
        assert record["enterprise_name"] == e.name
        assert record["scale"] == e.scale
        assert record["district"] == e.district
        assert record["industry_code"] == e.industry_code
        assert record["established_on"] == e.established_on
        assert record["status"] == e.status
        assert record["legal_representative_name"] == e.legal_representative_name
        assert record["legal_representative_id_no"] == e.legal_representative_id_no
        assert record["registered_address"].startswith(f"上海市{e.district}")
        assert (record["enterprise_type"] == "INDIVIDUAL_BUSINESS") == (e.uscc[1] == "2")


def test_an_enterprise_gets_the_same_registration_every_time() -> None:
    category = CATALOG.get("market.registration")
    two_rounds = list(records(category, POPULATION[:5], 10))
    first = {r["uscc"]: r for r in two_rounds[:5]}
    assert all(first[r["uscc"]] == r for r in two_rounds[5:])


def test_values_agree_within_a_record() -> None:
    for r in records(CATALOG.get("hrss.social-insurance"), POPULATION, 200):
        due = r["employer_amount"] + r["employee_amount"]
        assert r["in_arrears"] == (r["arrears_amount"] is not None)
        assert r["amount_paid"] + (r["arrears_amount"] or 0) == due
    for r in records(CATALOG.get("court.dishonest-debtor"), POPULATION, 200):
        assert (r["removed_on"] is None) == (r["status"] == "LISTED")
        assert r["removed_on"] is None or r["removed_on"] >= r["listed_on"]
    for r in records(CATALOG.get("ecology.discharge-permit"), POPULATION, 200):
        assert r["permit_no"].startswith(r["uscc"])
        assert (r["status"] == "EXPIRED") == (r["valid_until"] < dt.date(2025, 6, 30))


def test_a_registration_record_is_about_a_real_looking_enterprise() -> None:
    e: Enterprise = POPULATION[0]
    record = next(records(CATALOG.get("market.registration"), [e], 1))
    assert record["registered_capital"] > 0
    assert record["registration_authority"] == f"上海市{e.district}市场监督管理局"


# ---- a category of any Avro shape: the meaning where the type can hold it, else the type --
SYNTHETIC = {
    "type": "record",
    "name": "Synthetic",
    "namespace": "sharebus.stc",
    "title": {"en": "Every Avro type", "zh": "合成类别"},
    "doc": "A made-up category with every kind of Avro type. 合成类别",
    "fields": [
        {"name": "uscc", "type": "string", "sensitivity": "public", "doc": "Key. 代码",
         "meaning": "uscc"},
        {"name": "enterprise_name", "type": "string", "sensitivity": "public", "doc": "Name. 名称",
         "meaning": "enterprise-name"},
        {
            "name": "grade",
            "sensitivity": "public",
            "doc": "An enum. 枚举",
            "meaning": "category",
            "type": {"type": "enum", "name": "Grade", "symbols": ["GOOD", "FAIR", "POOR"]},
        },
        {"name": "again", "type": ["null", "Grade"], "default": None, "sensitivity": "public",
         "doc": "The same enum by name. 同一枚举", "meaning": "rating"},
        {"name": "either", "type": ["null", "int", "string"], "default": None,
         "sensitivity": "internal", "doc": "A wide union. 联合类型", "meaning": "count"},
        {"name": "amount_x", "sensitivity": "internal", "doc": "A narrow decimal. 金额",
         "meaning": "money",
         "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 3}},
        {"name": "fixed_amount", "sensitivity": "internal", "doc": "A fixed decimal. 金额",
         "meaning": "money",
         "type": {"type": "fixed", "name": "Money8", "size": 8, "logicalType": "decimal",
                  "precision": 16, "scale": 2}},
        {"name": "digest", "sensitivity": "internal", "doc": "Raw bytes. 摘要",
         "meaning": "doc-no", "type": {"type": "fixed", "name": "Digest", "size": 16}},
        {"name": "blob", "type": "bytes", "sensitivity": "internal", "doc": "Bytes. 字节",
         "meaning": "text"},
        {"name": "ratio", "type": "double", "sensitivity": "internal", "doc": "Double. 比例",
         "meaning": "percent", "range": [0.0, 1.0]},
        {"name": "weight", "type": "float", "sensitivity": "internal", "doc": "Float. 重量",
         "meaning": "area"},
        {"name": "flag", "type": "boolean", "sensitivity": "internal", "doc": "Flag. 标志",
         "meaning": "flag"},
        {"name": "big", "type": "long", "sensitivity": "internal", "doc": "Long. 长整数",
         "meaning": "event-date"},
        {"name": "event_id", "sensitivity": "internal", "doc": "A UUID. 标识",
         "meaning": "doc-no", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "opens", "sensitivity": "internal", "doc": "A time. 时间",
         "meaning": "event-date", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "local", "sensitivity": "internal", "doc": "Local instant. 本地时间",
         "meaning": "event-date",
         "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {"name": "seen_at", "sensitivity": "internal", "doc": "Instant. 时刻",
         "meaning": "event-date", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "tags", "sensitivity": "internal", "doc": "An array. 数组",
         "meaning": "choice", "type": {"type": "array", "items": "string"}},
        {"name": "counts", "sensitivity": "internal", "doc": "A map. 映射",
         "meaning": "count", "type": {"type": "map", "values": "long"}},
        {"name": "contact", "sensitivity": "personal", "doc": "A nested record. 联系人",
         "meaning": "person-name",
         "type": {"type": "record", "name": "Contact", "fields": [
             {"name": "contact_person_name", "type": "string"},
             {"name": "phone", "type": ["null", "string"], "default": None},
             {"name": "grade", "type": "Grade"},
         ]}},
        {"name": "valid_until", "type": "string", "sensitivity": "public",
         "doc": "A date held as text. 有效期", "meaning": "end-date"},
        {"name": "total_tax", "sensitivity": "internal", "doc": "A part of a fixed decimal. 税额",
         "meaning": "money", "part_of": "fixed_amount", "share": [0.06, 0.13],
         "type": {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 2}},
        {"name": "status", "sensitivity": "public", "doc": "A status without a term. 状态",
         "meaning": "status",
         "type": ["null", {"type": "enum", "name": "State", "symbols": ["ON", "OFF"]}],
         "default": None},
    ],
}  # fmt: skip


def test_a_category_of_any_avro_shape_gets_valid_records() -> None:
    category: Category = parse_category("stc", "synthetic", json.dumps(SYNTHETIC))
    parsed = parse_schema(category.record)
    generated = list(islice(records(category, POPULATION, 200, seed=5), 200))
    for record in generated:
        validate(record, parsed, raise_errors=True)
        check_record(category, record)
        assert abs(record["amount_x"]) < 1000  # a typical amount, cut to the precision
        assert record["total_tax"] <= record["fixed_amount"]
        assert dt.date.fromisoformat(record["valid_until"]) > dt.date(2022, 1, 1)
        assert 0 <= record["ratio"] <= 1
    assert {r["grade"] for r in generated} == {"GOOD", "FAIR", "POOR"}
    assert any(r["again"] is None for r in generated)
    parse_schema(category.envelope())
