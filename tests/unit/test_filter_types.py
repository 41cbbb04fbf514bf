"""`governance validate` refuses filters that would fail on every such record at run time."""

from __future__ import annotations

from governance.typecheck import filter_type_problems
from schemas.catalog import load_catalog

CATALOG = load_catalog()
PAYMENT = CATALOG.get("tax.payment-record")  # late_fee is a nullable decimal
REGISTRATION = CATALOG.get("market.registration")


def problems(expr: str) -> list[str]:
    return filter_type_problems(expr, PAYMENT, REGISTRATION)


def test_a_nullable_field_compared_with_a_number_is_refused_with_the_field_named() -> None:
    (found,) = problems("record.late_fee > 100.0")
    assert "record.late_fee is null" in found and "record.late_fee != null" in found


def test_the_guarded_form_passes() -> None:
    assert problems("record.late_fee != null && record.late_fee > 100.0") == []


def test_double_plus_int_is_refused() -> None:
    (found,) = problems("record.amount_paid + 1 > 100.0")
    assert "every field set" in found


def test_a_result_that_is_not_a_bool_is_refused() -> None:
    assert problems("record.amount_paid") != []


def test_the_sample_filters_pass() -> None:
    for expr in (
        "enterprise.scale in ['MICRO', 'SMALL']",
        "record.amount_paid >= 10000.0",
        "op != 'd'",
    ):
        assert problems(expr) == [], expr
