"""Row filters in CEL: compiled once, positions in compile errors, and how failures deny."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from governance.cel import (
    PROFILE_FIELDS,
    compile_filter,
    evaluate,
    profile_from_registration,
    unknown_variables,
)
from governance.decision import Event, Reason, decide
from governance.errors import FilterError, ProfileUnknownError
from governance.models import Agreement, Entrustment, Governance

MICRO = {"scale": "MICRO", "district": "浦东新区", "established_on": date(2019, 3, 1)}
RECORD = {
    "uscc": "91310115MA1K4B2X7Q",
    "amount_paid": Decimal("12000.50"),
    "paid_at": datetime(2026, 5, 31, 16, tzinfo=UTC),
    "period": "2026-05",
    "owed_since": date(2026, 1, 15),
    "late_fee": None,
}


def test_a_filter_is_compiled_once_per_expression() -> None:
    assert compile_filter("record.amount_paid > 1.0") is compile_filter("record.amount_paid > 1.0")


def test_a_syntax_error_says_where_and_why_on_one_line() -> None:
    with pytest.raises(FilterError) as caught:
        compile_filter("record.amount_paid >= ")
    message = str(caught.value)
    assert message.startswith("line 1, column 23: Syntax error: ")
    assert "\n" not in message


def test_a_syntax_error_on_a_later_line() -> None:
    with pytest.raises(FilterError, match=r"^line 2, column \d+: Syntax error"):
        compile_filter("record.amount_paid > 1.0 &&\n  op ==")


@pytest.mark.parametrize(
    ("expr", "result"),
    [
        ("record.amount_paid >= 10000.0", True),  # a decimal is a double
        ("record.amount_paid >= 10000", True),
        ("record.owed_since >= '2026-01-01'", True),  # a date is its ISO text
        ("record.paid_at >= timestamp('2026-05-31T16:00:00Z')", True),  # an instant stays one
        ("record.late_fee == null", True),
        ("op == 'c' && enterprise.scale in ['MICRO', 'SMALL']", True),
        ("enterprise.established_on < '2020-01-01'", True),
        ("record.period.startsWith('2025')", False),
    ],
)
def test_values_reach_cel_in_a_form_it_compares(expr: str, result: bool) -> None:
    assert evaluate(compile_filter(expr), RECORD, "c", MICRO) is result


@pytest.mark.parametrize("profile", [{}, None])
def test_an_unknown_profile_fails_a_filter_that_reads_the_enterprise(
    profile: dict[str, str] | None,
) -> None:
    program = compile_filter("enterprise.scale in ['MICRO', 'SMALL']")
    with pytest.raises(ProfileUnknownError, match="enterprise profile unknown"):
        evaluate(program, RECORD, "c", profile or {})
    # ... even where the expression would not have reached it
    with pytest.raises(ProfileUnknownError):
        evaluate(compile_filter("false && enterprise.scale == 'MICRO'"), RECORD, "c", {})
    # a filter that does not read the enterprise does not need its profile
    assert evaluate(compile_filter("record.amount_paid > 0.0"), RECORD, "c", {})


@pytest.mark.parametrize(
    ("expr", "why"),
    [
        ("record.late_fee > 0.0", "overload"),  # arithmetic on a null
        ("record.amount_paid + 'x' == 'y'", ""),  # a type mismatch
        ("record.voucher_no == 'x'", "no field 'voucher_no'"),  # not in the record
        ("enterprise.industry_code == 'C'", "no field 'industry_code'"),  # not in the profile
        ("record.amount_paid", "not a bool"),
        ("recrod.amount_paid > 0.0", "recrod"),
    ],
)
def test_other_failures_are_filter_errors(expr: str, why: str) -> None:
    with pytest.raises(FilterError) as caught:
        evaluate(compile_filter(expr), RECORD, "c", MICRO)
    assert not isinstance(caught.value, ProfileUnknownError)
    assert why in str(caught.value) and "\n" not in str(caught.value)


def test_unknown_variables_ignore_names_bound_by_macros() -> None:
    program = compile_filter("[1, 2].exists(x, x > 1) && recrod.a == enterprise.b && op == 'c'")
    assert unknown_variables(program) == ["recrod"]


def test_the_profile_leaves_out_personal_data() -> None:
    registration = {"scale": "SMALL", "legal_representative_id_no": "310108195907230810"}
    profile = profile_from_registration(registration)
    assert set(profile) == set(PROFILE_FIELDS) and profile["scale"] == "SMALL"
    assert "legal_representative_id_no" not in profile


NOW = datetime(2026, 6, 1, tzinfo=UTC)


def governance(expr: str) -> Governance:
    return Governance.of(
        [
            Entrustment(agency="tax", categories=["tax.payment-record"], effective_from=NOW),
            Agreement.model_validate(
                {
                    "id": "ccb-1",
                    "bank": "ccb",
                    "purpose": "inclusive-lending",
                    "effective_from": NOW - timedelta(days=1),
                    "effective_until": NOW + timedelta(days=1),
                    "grants": [
                        {"category": "tax.payment-record", "fields": ["uscc"], "filter": expr}
                    ],
                }
            ),
        ]
    )


EVENT = Event("tax.payment-record", "c", RECORD["uscc"], None, RECORD)


def test_decide_unknown_profile_is_filtered_other_failures_are_errors() -> None:
    scale = governance("enterprise.scale in ['MICRO', 'SMALL']")
    unknown = decide(EVENT, "ccb", scale, None, NOW, {})
    assert (unknown.reason, unknown.detail) == (Reason.filtered, "enterprise profile unknown")
    assert decide(EVENT, "ccb", scale, MICRO, NOW, {}).delivered
    large = decide(EVENT, "ccb", scale, {"scale": "LARGE"}, NOW, {})
    assert large.reason is Reason.filtered and "is false" in large.detail

    broken = decide(EVENT, "ccb", governance("record.late_fee > 0.0"), MICRO, NOW, {})
    assert broken.reason is Reason.error and not broken.delivered
    assert broken.detail.startswith("filter `record.late_fee > 0.0` failed: ")
    assert broken.agreement_id == "ccb-1"  # the audit says which agreement's filter failed


def test_delete_events_are_filtered_on_before() -> None:
    gov = governance("op == 'd' && record.amount_paid > 1.0")
    deleted = Event("tax.payment-record", "d", RECORD["uscc"], RECORD, None)
    decision = decide(deleted, "ccb", gov, None, NOW, {})
    assert decision.delivered and decision.before == {"uscc": RECORD["uscc"]}
    assert decision.after is None
