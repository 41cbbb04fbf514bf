"""The decision as a pure function: each rule of DESIGN.md in order, projection and masks."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from governance.decision import Event, Reason, decide, delivered_fields
from governance.models import Agreement, Consent, Entrustment, Governance, Grant

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
USCC = "91350100M000100Y43"
KEYS = {"ccb": b"secret-of-ccb"}


def agreement(**overrides: Any) -> Agreement:
    base: dict[str, Any] = {
        "id": "ccb-1",
        "bank": "ccb",
        "purpose": "inclusive-lending",
        "effective_from": NOW - timedelta(days=30),
        "effective_until": NOW + timedelta(days=30),
        "grants": [{"category": "tax.payment-record", "fields": ["uscc", "amount_paid"]}],
    }
    base.update(overrides)
    return Agreement.model_validate(base)


def entrustment(**overrides: Any) -> Entrustment:
    base: dict[str, Any] = {
        "agency": "tax",
        "categories": ["tax.payment-record"],
        "effective_from": NOW - timedelta(days=365),
    }
    base.update(overrides)
    return Entrustment.model_validate(base)


def consent(**overrides: Any) -> Consent:
    base: dict[str, Any] = {
        "uscc": USCC,
        "bank": "ccb",
        "granted_at": NOW - timedelta(days=1),
        "expires_at": NOW + timedelta(days=1),
    }
    base.update(overrides)
    return Consent.model_validate(base)


def gov(*records: Agreement | Entrustment | Consent, entrusted: bool = True) -> Governance:
    return Governance.of([entrustment(), *records] if entrusted else list(records))


EVENT = Event(
    "tax.payment-record",
    "c",
    USCC,
    None,
    {"uscc": USCC, "amount_paid": Decimal("1.00"), "voucher_no": "secret"},
)


def test_delivers_only_granted_fields() -> None:
    d = decide(EVENT, "ccb", gov(agreement()), None, NOW, KEYS)
    assert d.reason is Reason.delivered and d.delivered
    assert d.after == {"uscc": USCC, "amount_paid": Decimal("1.00")} and d.before is None
    assert d.dropped == ("voucher_no",) and d.masked == ()
    assert (d.agreement_id, d.agreement_version, d.purpose, d.retention_days) == (
        "ccb-1",
        1,
        "inclusive-lending",
        30,
    )


def test_other_bank_gets_nothing() -> None:
    d = decide(EVENT, "bocom", gov(agreement()), None, NOW, KEYS)
    assert d.reason is Reason.no_agreement and d.after is None


def test_category_not_granted_is_denied() -> None:
    other = Event("tax.arrears", "c", USCC, None, EVENT.after)
    g = gov(agreement(), entrustment(categories=["tax.payment-record", "tax.arrears"]))
    assert decide(other, "ccb", g, None, NOW, KEYS).reason is Reason.no_agreement


def test_a_category_not_entrusted_is_never_shared() -> None:
    cases = {
        "no entrustment": gov(agreement(), entrusted=False),
        "not listed": Governance.of([entrustment(categories=["tax.arrears"]), agreement()]),
        "suspended": Governance.of([entrustment(status="suspended"), agreement()]),
        "not yet": Governance.of(
            [entrustment(effective_from=NOW + timedelta(seconds=1)), agreement()]
        ),
        "ended now": Governance.of([entrustment(effective_until=NOW), agreement()]),
        "other agency": Governance.of(
            [entrustment(agency="hrss", categories=["tax.payment-record"]), agreement()]
        ),
    }
    for why, g in cases.items():
        d = decide(EVENT, "ccb", g, None, NOW, KEYS)
        assert d.reason is Reason.not_entrusted, why
        assert d.agreement_id is None and d.after is None and d.detail
    starts_now = Governance.of([entrustment(effective_from=NOW), agreement()])
    assert decide(EVENT, "ccb", starts_now, None, NOW, KEYS).delivered


def test_suspended_and_out_of_window_are_denied() -> None:
    for status, reason in (("suspended", Reason.suspended), ("terminated", Reason.terminated)):
        d = decide(EVENT, "ccb", gov(agreement(status=status)), None, NOW, KEYS)
        assert d.reason is reason and status in d.detail
    ended = agreement(effective_until=NOW)  # the window ends now: it is closed
    assert decide(EVENT, "ccb", gov(ended), None, NOW, KEYS).reason is Reason.not_in_window
    starts = agreement(effective_from=NOW)  # the window starts now: it is open
    assert decide(EVENT, "ccb", gov(starts), None, NOW, KEYS).delivered


def test_an_active_agreement_wins_over_a_suspended_one_and_the_latest_version_applies() -> None:
    old = agreement(id="ccb-0", status="suspended")
    v2 = agreement(id="ccb-2", version=2)
    v1 = agreement(id="ccb-1")
    d = decide(EVENT, "ccb", gov(old, v1, v2), None, NOW, KEYS)
    assert d.delivered and (d.agreement_id, d.agreement_version) == ("ccb-2", 2)


def test_consent_where_the_grant_needs_it() -> None:
    needs = agreement(
        grants=[{"category": "tax.payment-record", "fields": ["uscc"], "consent_required": True}]
    )
    refused = {
        "none": gov(needs),
        "revoked": gov(needs, consent(revoked=True)),
        "expired now": gov(needs, consent(expires_at=NOW)),
        "not yet": gov(needs, consent(granted_at=NOW + timedelta(seconds=1))),
        "other category": gov(needs, consent(categories=["tax.arrears"])),
        "other bank": gov(needs, consent(bank="bocom")),
    }
    for why, g in refused.items():
        d = decide(EVENT, "ccb", g, None, NOW, KEYS)
        assert d.reason is Reason.no_consent and d.agreement_id == "ccb-1", why
    for granted in (consent(), consent(categories=["tax.payment-record"]), consent(granted_at=NOW)):
        assert decide(EVENT, "ccb", gov(needs, granted), None, NOW, KEYS).delivered
    expired = decide(EVENT, "ccb", gov(needs, consent(expires_at=NOW)), None, NOW, KEYS)
    assert expired.detail == f"consent of {USCC} for ccb expired {NOW.isoformat()}"


def masked_agreement() -> Agreement:
    return agreement(
        grants=[
            {
                "category": "tax.payment-record",
                "fields": ["uscc", "enterprise_name", "amount_paid", "tax_office", "voucher_no"],
                "masks": {
                    "uscc": {"kind": "partial", "keep_first": 2, "keep_last": 2},
                    "enterprise_name": {"kind": "hash"},
                    "amount_paid": {"kind": "generalize"},
                    "voucher_no": {"kind": "drop"},
                },
            }
        ]
    )


def test_masks_and_drops() -> None:
    after = {"uscc": USCC, "enterprise_name": "上海某某", "amount_paid": Decimal("12000.00")}
    event = Event("tax.payment-record", "u", USCC, {**after, "voucher_no": "v"}, after)
    d = decide(event, "ccb", gov(masked_agreement()), None, NOW, KEYS)
    assert d.delivered
    name_hash = hmac.new(KEYS["ccb"], "上海某某".encode(), hashlib.sha256).hexdigest()
    assert d.after == {
        "uscc": "91**************43",
        "enterprise_name": name_hash,
        "amount_paid": "[10000,50000)",
        "tax_office": None,  # granted but absent from the record
    }
    assert d.before == d.after  # voucher_no is dropped from before too
    assert d.masked == ("amount_paid", "enterprise_name", "uscc")
    assert d.dropped == ("voucher_no",)


def test_a_hash_mask_without_the_banks_key_is_an_error() -> None:
    d = decide(EVENT, "ccb", gov(masked_agreement()), None, NOW, {})
    assert d.reason is Reason.error and d.detail == "no hash key for bank ccb"
    assert d.after is None


def test_a_delete_is_decided_on_before() -> None:
    deleted = Event("tax.payment-record", "d", USCC, EVENT.after, None)
    d = decide(deleted, "ccb", gov(agreement()), None, NOW, KEYS)
    assert d.delivered and d.after is None
    assert d.before == {"uscc": USCC, "amount_paid": Decimal("1.00")}


def test_an_error_while_deciding_is_a_deny() -> None:
    broken = Event("tax.payment-record", "c", USCC, None, "not a record")  # type: ignore[arg-type]
    d = decide(broken, "ccb", gov(agreement()), None, NOW, KEYS)
    assert d.reason is Reason.error and not d.delivered and d.after is None
    assert "AttributeError" in d.detail
    naive = decide(EVENT, "ccb", gov(agreement()), None, NOW.replace(tzinfo=None), KEYS)
    assert naive.reason is Reason.error


def test_delivered_fields_are_the_granted_minus_the_dropped_in_grant_order() -> None:
    grant = Grant(
        category="tax.payment-record",
        fields=["uscc", "voucher_no", "amount_paid", "paid_at"],
        masks={"voucher_no": {"kind": "drop"}, "paid_at": {"kind": "generalize"}},  # type: ignore[dict-item]
    )
    assert delivered_fields(grant) == ["uscc", "amount_paid", "paid_at"]


def test_one_snapshot_asked_at_any_instant_answers_as_a_fresh_one() -> None:
    # The entrustment and agreement steps are kept per snapshot for the span between two
    # window ends: asked back and forth across every end, they answer as if never kept.
    old = agreement(id="ccb-0", effective_until=NOW - timedelta(days=30) + timedelta(hours=1))
    records = [
        entrustment(effective_until=NOW + timedelta(days=10)),
        old,
        agreement(effective_from=NOW - timedelta(days=1), effective_until=NOW + timedelta(days=2)),
    ]
    kept = Governance.of(records)
    ends = sorted({NOW - timedelta(days=30), NOW - timedelta(days=1), NOW + timedelta(days=2)})
    instants = [e + d for e in ends for d in (-timedelta(microseconds=1), timedelta(0))]
    instants += [NOW, NOW + timedelta(days=10), NOW + timedelta(days=11)]
    for when in [*instants, *reversed(instants), *instants[::2]]:
        fresh = decide(EVENT, "ccb", Governance.of(records), None, when, KEYS)
        assert decide(EVENT, "ccb", kept, None, when, KEYS) == fresh, when
