"""The shipped catalog: every category documented in both languages, tagged, parseable."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import pytest

from schemas.catalog import AGENCIES, SENSITIVITIES, Category, load_catalog, parse_category
from schemas.errors import SchemaError
from schemas.serde import parse_schema

CATALOG = load_catalog()
CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
PASCAL = re.compile(r"^[A-Z][A-Za-z0-9]*$")
AVRO_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MONEY = {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 2}

# The categories CATALOG.md lists; the catalog may have more, never fewer.
DESIGNED = {
    "tax": ("payment-record", "credit-rating", "arrears", "invoice-summary"),
    "hrss": ("social-insurance", "labor-arbitration", "employment-stability"),
    "planning": ("real-estate", "mortgage", "land-use-right"),
    "ecology": ("penalty", "discharge-permit", "credit-rating"),
    "housing": ("qualification", "construction-permit", "provident-fund"),
    "market": (
        "registration",
        "annual-report",
        "penalty",
        "abnormal-operation",
        "trademark",
        "chattel-mortgage",
    ),
    "stc": ("high-tech-enterprise", "tech-sme", "rd-grant"),
    "court": ("judgment", "enforcement", "dishonest-debtor"),
}


def bilingual(text: object) -> bool:
    return isinstance(text, str) and bool(LATIN.search(text)) and bool(CJK.search(text))


def non_null(avro_type: Any) -> Any:
    if isinstance(avro_type, list):
        rest = [t for t in avro_type if t != "null"]
        return rest[0] if len(rest) == 1 else rest
    return avro_type


def enums(avro_type: Any) -> list[dict[str, Any]]:
    avro_type = non_null(avro_type)
    return [avro_type] if isinstance(avro_type, dict) and avro_type["type"] == "enum" else []


def test_the_catalog_covers_every_agency_with_at_least_thirty_categories() -> None:
    assert len(CATALOG) >= 30
    assert {c.agency for c in CATALOG} == set(AGENCIES)


def test_every_category_of_the_design_is_there() -> None:
    missing = [
        f"{agency}.{dataset}"
        for agency, datasets in DESIGNED.items()
        for dataset in datasets
        if f"{agency}.{dataset}" not in CATALOG
    ]
    assert missing == []


@pytest.fixture(params=CATALOG.ids)
def category(request: pytest.FixtureRequest) -> Category:
    return CATALOG.get(request.param)


def test_the_record_is_named_and_documented_in_both_languages(category: Category) -> None:
    record = category.record
    assert record["type"] == "record"
    assert PASCAL.match(record["name"]), record["name"]
    assert record["namespace"] == f"sharebus.{category.agency}"
    assert bilingual(record["doc"]), record["doc"]


def test_every_field_is_documented_in_both_languages_and_tagged(category: Category) -> None:
    for raw in category.record["fields"]:
        assert SNAKE.match(raw["name"]), raw["name"]
        assert bilingual(raw["doc"]), f"{category.id}.{raw['name']}: {raw['doc']}"
        assert raw["sensitivity"] in SENSITIVITIES, f"{category.id}.{raw['name']}"
        for enum in enums(raw["type"]):
            assert bilingual(enum.get("doc")), f"{category.id}.{raw['name']}: enum doc"


def test_the_key_and_the_name_come_first(category: Category) -> None:
    first, second = category.record["fields"][:2]
    assert (first["name"], first["type"], first["sensitivity"]) == ("uscc", "string", "public")
    assert (second["name"], second["type"], second["sensitivity"]) == (
        "enterprise_name",
        "string",
        "public",
    )


def test_types_follow_the_conventions(category: Category) -> None:
    enum_names = []
    for raw in category.record["fields"]:
        where = f"{category.id}.{raw['name']}"
        if isinstance(raw["type"], list):
            assert raw["type"][0] == "null" and "default" in raw and raw["default"] is None, where
        base = non_null(raw["type"])
        if isinstance(base, dict) and base.get("logicalType") == "decimal":
            # Money is always decimal(18,2); areas and rates are decimals of their own width.
            money = raw.get("meaning", "area" if "area" in where else "money") == "money"
            assert base == MONEY if money else base.get("scale") == 2, where
        for enum in enums(raw["type"]):
            enum_names.append(enum["name"])
            assert all(AVRO_NAME.match(s) for s in enum["symbols"]), where
            assert len(set(enum["symbols"])) == len(enum["symbols"]), where
    assert len(enum_names) == len(set(enum_names)), f"{category.id}: enum names repeat"


def test_the_envelope_and_the_record_parse(category: Category) -> None:
    parse_schema(category.envelope())
    parse_schema(category.record)


def test_registration_carries_the_profile_with_personal_data_tagged() -> None:
    registration = CATALOG.get("market.registration")
    types = {f.name: non_null(f.type) for f in registration.fields}
    assert registration.field("legal_representative_name").sensitivity == "personal"
    assert registration.field("legal_representative_id_no").sensitivity == "personal"
    assert types["legal_representative_name"] == "string"
    assert types["legal_representative_id_no"] == "string"
    assert types["registered_capital"] == MONEY
    assert types["established_on"] == {"type": "int", "logicalType": "date"}
    assert types["enterprise_type"]["type"] == "enum"
    assert types["scale"]["symbols"] == ["MICRO", "SMALL", "MEDIUM", "LARGE"]
    assert types["district"] == "string"
    assert types["industry_code"] == "string"
    assert "ACTIVE" in types["status"]["symbols"]
    personal = {f.name for f in registration.fields if f.sensitivity == "personal"}
    assert personal == {"legal_representative_name", "legal_representative_id_no"}


# ---- a broken .avsc is refused, naming what is wrong -----------------------------------
def template() -> dict[str, Any]:
    path = resources.files("schemas").joinpath("avro/tax/payment-record.avsc")
    return dict(json.loads(path.read_text("utf-8")))


def broken(change: Any) -> str:
    record = template()
    change(record)
    return json.dumps(record, ensure_ascii=False)


def field_named(record: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in record["fields"] if f["name"] == name)


def test_the_template_itself_parses() -> None:
    category = parse_category("tax", "payment-record", broken(lambda r: None))
    assert category.id == "tax.payment-record"


def test_a_field_without_doc_is_refused_by_name() -> None:
    text = broken(lambda r: field_named(r, "amount_paid").pop("doc"))
    with pytest.raises(SchemaError, match="field 'amount_paid' needs a doc"):
        parse_category("tax", "payment-record", text)


def test_a_field_without_sensitivity_is_refused_by_name() -> None:
    text = broken(lambda r: field_named(r, "voucher_no").pop("sensitivity"))
    with pytest.raises(SchemaError, match="field 'voucher_no' needs a sensitivity"):
        parse_category("tax", "payment-record", text)


def test_an_unknown_sensitivity_is_refused_by_name() -> None:
    text = broken(lambda r: field_named(r, "tax_office").update(sensitivity="secret"))
    with pytest.raises(SchemaError, match="field 'tax_office' needs a sensitivity"):
        parse_category("tax", "payment-record", text)


def test_a_record_without_uscc_is_refused() -> None:
    text = broken(lambda r: r.update(fields=[f for f in r["fields"] if f["name"] != "uscc"]))
    with pytest.raises(SchemaError, match="'uscc'"):
        parse_category("tax", "payment-record", text)


def test_a_record_without_doc_is_refused() -> None:
    with pytest.raises(SchemaError, match="record needs a doc"):
        parse_category("tax", "payment-record", broken(lambda r: r.pop("doc")))


# ---- what each field means: required, and checked against the field's type ------------
def test_every_field_says_what_it_means_and_every_category_has_a_title(
    category: Category,
) -> None:
    assert all(f.meaning for f in category.fields), category.id
    assert set(category.title) == {"en", "zh"}
    assert LATIN.search(category.title["en"]) and CJK.search(category.title["zh"])


def test_a_field_shows_its_meaning_and_parameters() -> None:
    late_fee = CATALOG.get("tax.payment-record").field("late_fee")
    assert late_fee.meaning == "money"
    assert late_fee.params["adverse"] is True and late_fee.params["typical"] > 0
    assert "doc" not in late_fee.params and "sensitivity" not in late_fee.params


def refused(change: Any, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        parse_category("tax", "payment-record", broken(change))


def test_a_field_without_a_meaning_is_refused_by_name() -> None:
    refused(lambda r: field_named(r, "voucher_no").pop("meaning"), "'voucher_no': needs a meaning")


def test_an_unknown_meaning_or_parameter_is_refused() -> None:
    refused(lambda r: field_named(r, "voucher_no").update(meaning="serial"), "needs a meaning")
    refused(lambda r: field_named(r, "voucher_no").update(digits=8), "unknown attribute 'digits'")


def test_a_record_without_a_title_is_refused() -> None:
    refused(lambda r: r.pop("title"), 'needs a "title"')
    refused(lambda r: r.update(title={"en": "Tax payment"}), 'needs a "title"')


def test_weights_closed_and_expired_must_name_symbols_of_the_enum() -> None:
    tax_type = "tax_type"
    refused(lambda r: field_named(r, tax_type)["weights"].update(GST=3), "'weights' names GST")
    refused(
        lambda r: field_named(r, tax_type).update(closed=["VAT", "DONE"]), "'closed' names DONE"
    )
    refused(lambda r: field_named(r, "period").update(expired=["OVER"]), "'expired' names OVER")


def test_a_part_must_be_of_an_earlier_numeric_field() -> None:
    def part_of(whole: str) -> Any:
        return lambda r: field_named(r, "late_fee").update(part_of=whole, share=[0.01, 0.1])

    refused(part_of("voucher_no"), "'part_of' must name a numeric field, 'voucher_no'")
    refused(part_of("nothing"), "'part_of' must name an earlier field")
    refused(
        lambda r: field_named(r, "late_fee").update(part_of="amount_paid", share=[0.5, 1.5]),
        "0 <= lo <= hi <= 1",
    )


def test_the_enterprise_scale_is_an_enum_of_the_four_size_classes() -> None:
    def scale(avro_type: Any) -> Any:
        return lambda r: field_named(r, "tax_type").update(
            meaning="enterprise-scale", weights={}, type=avro_type
        )

    def enum(symbols: list[str]) -> dict[str, Any]:
        return {"type": "enum", "name": "Scale", "doc": "Size. 规模", "symbols": symbols}

    refused(scale(enum(["SMALL", "BIG"])), "'enterprise-scale' must be an enum of MICRO")
    refused(scale(MONEY), "'enterprise-scale' must be an enum of MICRO")
    parse_category(
        "tax", "payment-record", broken(scale(enum(["LARGE", "MEDIUM", "SMALL", "MICRO"])))
    )


def test_a_pattern_holds_only_known_placeholders() -> None:
    refused(
        lambda r: field_named(r, "voucher_no").update(pattern="{dcode}{yeer}{seq13}"),
        r"unknown placeholders \{seq13\}, \{yeer\}",
    )


def test_conditions_and_keyed_choices_must_name_fields_and_their_symbols() -> None:
    late_fee = "late_fee"
    refused(lambda r: field_named(r, late_fee).update(when={"nothing": True}), "'when' must name")
    refused(
        lambda r: field_named(r, late_fee).update(when={"tax_type": ["VAT", "SALT"]}),
        "'when' on 'tax_type' needs true, false or symbols",
    )
    refused(
        lambda r: field_named(r, "voucher_no").update(by="tax_type", choices={"SALT": ["x"]}),
        "'choices' keys SALT",
    )
    refused(lambda r: field_named(r, "voucher_no").update(by="tax_type"), "with 'by' an object")
