"""The decision as a pure function (projection, status, window), without a broker."""

from datetime import UTC, datetime, timedelta

from governance.decision import Event, Governance, Reason, decide, project
from governance.models import Agreement

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def agreement(**overrides: object) -> Agreement:
    base: dict[str, object] = {
        "id": "ccb-1",
        "bank": "ccb",
        "purpose": "inclusive-lending",
        "effective_from": NOW - timedelta(days=30),
        "effective_until": NOW + timedelta(days=30),
        "grants": [{"category": "tax.payment-record", "fields": ["uscc", "amount_paid"]}],
    }
    base.update(overrides)
    return Agreement.model_validate(base)


EVENT = Event(
    "tax.payment-record",
    "c",
    "91350100M000100Y43",
    None,
    {"uscc": "91350100M000100Y43", "amount_paid": 1, "voucher_no": "secret"},
)


def test_delivers_only_granted_fields() -> None:
    d = decide(EVENT, "ccb", Governance((agreement(),)), NOW)
    assert d.reason is Reason.delivered
    assert d.after == {"uscc": "91350100M000100Y43", "amount_paid": 1}
    assert d.dropped == ("voucher_no",)


def test_other_bank_gets_nothing() -> None:
    d = decide(EVENT, "bocom", Governance((agreement(),)), NOW)
    assert d.reason is Reason.no_agreement and d.after is None


def test_category_not_granted_is_denied() -> None:
    other = Event("tax.arrears", "c", EVENT.uscc, None, EVENT.after)
    assert decide(other, "ccb", Governance((agreement(),)), NOW).reason is Reason.no_agreement


def test_suspended_and_out_of_window_are_denied() -> None:
    assert (
        decide(EVENT, "ccb", Governance((agreement(status="suspended"),)), NOW).reason
        is Reason.suspended
    )
    ended = agreement(effective_until=NOW)  # the window ends now: it is closed
    assert decide(EVENT, "ccb", Governance((ended,)), NOW).reason is Reason.not_in_window


def test_an_error_while_deciding_is_a_deny() -> None:
    broken = Event("tax.payment-record", "c", EVENT.uscc, None, "not a record")  # type: ignore[arg-type]
    d = decide(broken, "ccb", Governance((agreement(),)), NOW)
    assert d.reason is Reason.error and not d.delivered


def test_project_keeps_order_and_fills_absent_fields() -> None:
    assert project({"b": 2, "a": 1}, ["a", "c"]) == {"a": 1, "c": None}
    assert project(None, ["a"]) is None
