"""`decide` against an independent oracle, on thousands of generated governance states.

The oracle is written again from the rules of DESIGN.md ("The fan-out decision") without
calling any helper of `governance`: windows, statuses, consents, masks (hmac, bands,
Shanghai months) and filters are recomputed here. Each test filter is a CEL text paired
with a Python function that follows CEL's semantics for it (errors on null arithmetic and
missing keys, `&&`/`||` that absorb an error when the other side decides). The two must
agree on the reason and, when delivered, on every delivered value.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.decision import Event, Reason, decide
from governance.models import Agreement, Consent, Entrustment, Governance

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
POINTS = [NOW + timedelta(days=d) for d in (-30, -2)] + [
    NOW - timedelta(milliseconds=1),
    NOW,  # a window that starts now is open; one that ends now is closed
    NOW + timedelta(milliseconds=1),
    NOW + timedelta(days=2),
]
AGENCY_CATEGORIES = {
    "tax": ["tax.payment-record", "tax.credit-rating"],
    "hrss": ["hrss.social-insurance"],
    "court": ["court.judgment"],
}
CATEGORIES = [c for cs in AGENCY_CATEGORIES.values() for c in cs]
EVENT_CATEGORIES = [*CATEGORIES, "stc.tech-sme"]  # stc never entrusts anything here
BANKS = ["ccb", "bocom", "spdb"]
USCCS = ["91310000MA1FL0001A", "91310000MA1FL0002B"]
FIELDS = ["uscc", "name", "amount", "rating", "paid_at", "on", "count", "note"]
STATUSES = ["active", "suspended", "terminated"]
SHANGHAI = timezone(timedelta(hours=8))  # no daylight saving since 1991


class CelError(Exception):
    """The oracle's stand-in for any CEL evaluation error."""


def key(record: Mapping[str, Any], name: str) -> Any:
    if name not in record:
        raise CelError(f"no field {name}")
    return record[name]


def number(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        raise CelError("no overload")
    return value


def both(*sides: Callable[[], Any]) -> bool:
    """CEL `&&`: false if any side is false (even if another errs), else error, else true."""
    results = []
    for side in sides:
        try:
            results.append(side())
        except (CelError, KeyError) as exc:
            results.append(exc)
    if any(r is False for r in results):
        return False
    for r in results:
        if isinstance(r, Exception):
            raise CelError(str(r))
    return True


def either(*sides: Callable[[], Any]) -> bool:
    results = []
    for side in sides:
        try:
            results.append(side())
        except (CelError, KeyError) as exc:
            results.append(exc)
    if any(r is True for r in results):
        return True
    for r in results:
        if isinstance(r, Exception):
            raise CelError(str(r))
    return False


def fails(*_: Any) -> bool:
    raise CelError("string + int")


JUNE = datetime(2026, 6, 1, tzinfo=UTC)
Oracle = Callable[[Mapping[str, Any], str, Mapping[str, Any]], Any]
# (CEL text, reads enterprise, the same in Python)
FILTERS: list[tuple[str, bool, Oracle]] = [
    (
        "enterprise.scale in ['MICRO', 'SMALL']",
        True,
        lambda r, o, e: key(e, "scale") in ("MICRO", "SMALL"),
    ),
    ("record.amount >= 10000.0", False, lambda r, o, e: number(key(r, "amount")) >= 10000),
    ("op != 'd'", False, lambda r, o, e: o != "d"),
    ("record.rating in ['A', 'B']", False, lambda r, o, e: key(r, "rating") in ("A", "B")),
    (
        "record.count > 10 && enterprise.district == 'Pudong'",
        True,
        lambda r, o, e: both(
            lambda: number(key(r, "count")) > 10, lambda: key(e, "district") == "Pudong"
        ),
    ),
    (
        "enterprise.status == 'ACTIVE' || record.rating == 'A'",
        True,
        lambda r, o, e: either(
            lambda: key(e, "status") == "ACTIVE", lambda: key(r, "rating") == "A"
        ),
    ),
    ("record.name + 1 == 2", False, fails),
    (
        "record.paid_at < timestamp('2026-06-01T00:00:00Z')",
        False,
        lambda r, o, e: number(key(r, "paid_at")) < JUNE,
    ),
    (
        "record.on == '2026-05-01'",
        False,
        lambda r, o, e: (v := key(r, "on")) is not None and v.isoformat() == "2026-05-01",
    ),
    ("1 + 1", False, lambda r, o, e: 2),  # not a bool: an error
    (
        "has(record.note) && record.note != null",
        False,
        lambda r, o, e: "note" in r and r["note"] is not None,
    ),
]

BANDS = [
    (0, 10_000, "[0,10000)"),
    (10_000, 50_000, "[10000,50000)"),
    (50_000, 100_000, "[50000,100000)"),
    (100_000, 500_000, "[100000,500000)"),
    (500_000, 1_000_000, "[500000,1000000)"),
    (1_000_000, 5_000_000, "[1000000,5000000)"),
    (5_000_000, 10_000_000, "[5000000,10000000)"),
]


def oracle_mask(mask: Mapping[str, Any], value: Any, secret: bytes | None) -> Any:
    if value is None:
        return None
    kind = mask["kind"]
    if kind == "hash":
        assert secret  # checked before masking
        text = value if isinstance(value, str) else str(value)
        return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()
    if kind == "partial":
        text = value if isinstance(value, str) else str(value)
        first, last = mask.get("keep_first", 0), mask.get("keep_last", 0)
        if first + last >= len(text):
            return "*" * len(text)
        return text[:first] + "*" * (len(text) - first - last) + text[len(text) - last :]
    assert kind == "generalize"
    if isinstance(value, datetime):
        local = value.astimezone(SHANGHAI)
        return f"{local.year}-{local.month:02d}"
    if isinstance(value, date):
        return f"{value.year}-{value.month:02d}"
    if isinstance(value, str):
        raise CelError("cannot generalize text")
    if value < 0:
        return "(-inf,0)"
    for low, high, label in BANDS:
        if low <= value < high:
            return label
    return "[10000000,+inf)"


@dataclass
class Expected:
    reason: Reason
    agreement_id: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    masked: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    mask_kinds: frozenset[str] = frozenset()
    op: str | None = None


def oracle(case: dict[str, Any]) -> Expected:
    event, bank, now = case["event"], case["bank"], NOW
    category = event["category"]
    # 1. entrusted and effective
    ent = case["entrustments"].get(category.split(".")[0])
    if (
        ent is None
        or ent["status"] != "active"
        or not (ent["from"] <= now and (ent["until"] is None or now < ent["until"]))
        or category not in ent["categories"]
    ):
        return Expected(Reason.not_entrusted)
    # 2. an agreement of the bank grants it, is active, and now is in its window
    granting = []
    for a in case["agreements"]:
        grants = [g for g in a["grants"] if g["category"] == category]
        if a["bank"] == bank and grants:
            granting.append((a, grants[0]))
    if not granting:
        return Expected(Reason.no_agreement)
    active = [(a, g) for a, g in granting if a["status"] == "active"]
    if not active:
        if any(a["status"] == "suspended" for a, _ in granting):
            return Expected(Reason.suspended)
        return Expected(Reason.terminated)
    current = [(a, g) for a, g in active if a["from"] <= now < a["until"]]
    if not current:
        return Expected(Reason.not_in_window)
    agreement, grant = sorted(current, key=lambda ag: (ag[0]["version"], ag[0]["id"]))[-1]
    aid = agreement["id"]
    # 3. consent, where the grant needs it
    if grant["consent_required"]:
        c = case["consents"].get((bank, event["uscc"]))
        if (
            c is None
            or c["revoked"]
            or not (c["granted"] <= now < c["expires"])
            or (c["categories"] != "all" and category not in c["categories"])
        ):
            return Expected(Reason.no_consent, aid)
    # 4. the row filter, on each side the bank's view would show (a filtered view:
    # an update is judged on before and after, and becomes a create or a delete when
    # the record enters or leaves the view)
    op = event["op"]
    if grant["filter"] is not None:
        _, reads_enterprise, python = FILTERS[grant["filter"]]
        profile = case["profile"]
        if reads_enterprise and not profile:
            return Expected(Reason.filtered, aid)

        def judge(side: Mapping[str, Any] | None) -> bool:
            result = python(side, event["op"], profile or {})
            if not isinstance(result, bool):
                raise CelError("not a bool")
            return result

        try:
            before_in = judge(event["before"]) if event["before"] is not None else None
            after_in = judge(event["after"]) if event["after"] is not None else None
        except (CelError, KeyError, TypeError):
            return Expected(Reason.error, aid)
        op = VIEW[(event["op"], before_in, after_in)]
        if op is None:
            return Expected(Reason.filtered, aid)
    # 5. project and mask
    masks = grant["masks"]
    secret = case["keys"].get(bank)
    if any(m["kind"] == "hash" for m in masks.values()) and not secret:
        return Expected(Reason.error, aid)
    fields = [f for f in grant["fields"] if masks.get(f, {}).get("kind") != "drop"]
    out = []
    shown = (op in ("u", "d"), op in ("c", "r", "u"))
    for record, in_view in zip((event["before"], event["after"]), shown, strict=True):
        if record is None or not in_view:
            out.append(None)
            continue
        projected = {}
        for f in fields:
            value = record.get(f)
            try:
                projected[f] = oracle_mask(masks[f], value, secret) if f in masks else value
            except CelError:
                return Expected(Reason.error, aid)
        out.append(projected)
    source = set(event["before"] or {}) | set(event["after"] or {})
    return Expected(
        Reason.delivered,
        aid,
        out[0],
        out[1],
        tuple(sorted(f for f in fields if f in masks)),
        tuple(sorted(source - set(fields))),
        frozenset(m["kind"] for m in masks.values()),
        op,
    )


# (source op, before passes, after passes) -> what the bank's view gets (None: nothing).
# None for a side means the event has no such side.
VIEW: dict[tuple[str, bool | None, bool | None], str | None] = {
    ("c", None, True): "c",
    ("c", None, False): None,
    ("r", None, True): "r",
    ("r", None, False): None,
    ("d", True, None): "d",
    ("d", False, None): None,
    ("u", True, True): "u",
    ("u", False, True): "c",  # entered the view
    ("u", True, False): "d",  # left the view
    ("u", False, False): None,
    ("u", None, True): "u",
    ("u", None, False): None,
    ("u", True, None): "u",
    ("u", False, None): None,
}


# --- strategies -------------------------------------------------------------------------

points = st.sampled_from(POINTS)
OPEN = (NOW - timedelta(days=30), NOW + timedelta(days=2))


def mostly(value: Any, others: st.SearchStrategy[Any], odds: int = 4) -> st.SearchStrategy[Any]:
    """`value` `odds` times out of `odds + 1`, else one of `others`: so that most states
    pass a rule and reach the next, and every rule still fails often enough."""
    return st.sampled_from([True] * odds + [False]).flatmap(
        lambda ok: st.just(value) if ok else others
    )


@st.composite
def any_window(draw: st.DrawFn) -> tuple[datetime, datetime]:
    start, end = sorted(draw(st.lists(points, min_size=2, max_size=2, unique=True)))
    return start, end


windows = mostly(OPEN, any_window())
often = st.sampled_from([True] * 8 + [False])
statuses = mostly("active", st.sampled_from(STATUSES), odds=6)


VALUES: dict[str, st.SearchStrategy[Any]] = {
    "name": st.sampled_from(["", "A", "上海", "ACME", "上海金晨餐饮有限公司", "ACME Ltd."]),
    "amount": st.sampled_from(
        [Decimal(s) for s in ("-0.01", "0.00", "9999.99", "10000.00", "49999.99", "50000.00")]
        + [Decimal(s) for s in ("99999.99", "100000.00", "999999.99", "1000000.00")]
        + [Decimal(s) for s in ("4999999.99", "5000000.00", "10000000.00", "123456789.12")]
    ),
    "rating": st.sampled_from(["A", "B", "M", "C", "D"]),
    "paid_at": st.sampled_from(
        [
            datetime(2026, 5, 31, 15, 59, 59, tzinfo=UTC),  # 2026-05-31 23:59:59 in Shanghai
            datetime(2026, 5, 31, 16, 0, tzinfo=UTC),  # 2026-06-01 00:00 in Shanghai
            datetime(2026, 6, 1, tzinfo=UTC),
            datetime(2025, 12, 31, 17, 0, tzinfo=UTC),
        ]
    ),
    "on": st.sampled_from([date(2026, 5, 1), date(2026, 5, 31), date(2025, 12, 1)]),
    "count": st.integers(min_value=-5, max_value=20_000),
    "note": st.text(max_size=6),
}
MASK_KINDS = {
    "uscc": ["drop", "hash", "partial", "partial"],
    "name": ["drop", "hash", "partial", "partial", "generalize"],  # generalize text: error
    "amount": ["drop", "generalize"],
    "rating": ["drop", "hash", "partial", "partial"],
    "paid_at": ["drop", "generalize"],
    "on": ["drop", "generalize"],
    "count": ["drop", "hash", "partial", "generalize"],
    "note": ["drop", "hash", "partial", "partial"],
    "ghost": ["drop", "hash"],
}
presence = st.sampled_from(["value", "value", "value", "null", "absent"])


@st.composite
def record(draw: st.DrawFn, uscc: str) -> dict[str, Any]:
    out: dict[str, Any] = {"uscc": uscc}
    for name, values in VALUES.items():
        present = draw(presence)
        if present == "value":
            out[name] = draw(values)
        elif present == "null":
            out[name] = None
    return out


@st.composite
def mask(draw: st.DrawFn, field: str) -> dict[str, Any]:
    kind = draw(st.sampled_from(MASK_KINDS[field]))
    if kind == "partial":
        return {
            "kind": kind,
            "keep_first": draw(st.integers(0, 4)),
            "keep_last": draw(st.integers(0, 4)),
        }
    return {"kind": kind}


@st.composite
def grant(draw: st.DrawFn, category: str) -> dict[str, Any]:
    fields = draw(st.lists(st.sampled_from([*FIELDS, "ghost"]), min_size=1, unique=True))
    masked = draw(st.lists(st.sampled_from(fields), unique=True, max_size=3))
    return {
        "category": category,
        "fields": fields,
        "masks": {f: draw(mask(f)) for f in masked},
        "filter": draw(st.none() | st.integers(0, len(FILTERS) - 1)),
        "consent_required": draw(st.booleans()),
        "retention_days": draw(st.integers(1, 400)),
    }


@st.composite
def agreement(draw: st.DrawFn, index: int, bank: str, category: str) -> dict[str, Any]:
    start, end = draw(windows)
    others = st.lists(st.sampled_from(EVENT_CATEGORIES), unique=True, max_size=2)
    categories = draw(others)
    if category not in categories and draw(often):
        categories.append(category)
    return {
        "id": f"a{index}",
        "bank": draw(mostly(bank, st.sampled_from(BANKS), odds=2)),
        "version": draw(st.integers(1, 3)),
        "status": draw(statuses),
        "from": start,
        "until": end,
        "grants": [draw(grant(c)) for c in categories],  # sometimes none at all
    }


@st.composite
def entrustment(draw: st.DrawFn, agency: str) -> dict[str, Any]:
    start, end = draw(windows)
    # sometimes another agency's category: it does not count for that agency
    some = st.lists(st.sampled_from(CATEGORIES), min_size=1, unique=True)
    return {
        "status": draw(statuses),
        "from": start,
        "until": draw(st.sampled_from([None, end])),
        "categories": draw(mostly(AGENCY_CATEGORIES[agency], some, odds=8)),
    }


@st.composite
def any_consent(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "revoked": draw(st.booleans()),
        "granted": draw(points),
        "expires": draw(points),  # sometimes not after granted_at: then never in effect
        "categories": draw(
            st.just("all") | st.lists(st.sampled_from(CATEGORIES), min_size=1, unique=True)
        ),
    }


GOOD_CONSENT = {"revoked": False, "granted": OPEN[0], "expires": OPEN[1], "categories": "all"}
consents = mostly(GOOD_CONSENT, any_consent(), odds=2)
SCALES = ["MICRO", "SMALL", "MEDIUM", "LARGE"]
profiles = st.one_of(
    st.none(),
    st.just({}),
    st.fixed_dictionaries({"scale": st.sampled_from(SCALES)}),  # no district, no status
    *[
        st.fixed_dictionaries(
            {
                "scale": st.sampled_from(SCALES),
                "district": st.sampled_from(["Pudong", "Minhang"]),
                "status": st.sampled_from(["ACTIVE", "REVOKED"]),
                "industry_code": st.just("C3011"),
                "established_on": st.just(date(2019, 3, 1)),
            }
        )
    ]
    * 3,
)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    uscc = draw(st.sampled_from(USCCS))
    bank = draw(st.sampled_from(BANKS))
    op = draw(st.sampled_from(["c", "u", "d", "r"]))
    before = draw(record(uscc)) if op in ("u", "d") else None
    after = draw(record(uscc)) if op != "d" else None
    category = draw(mostly(CATEGORIES[0], st.sampled_from(EVENT_CATEGORIES), odds=1))
    entrustments = {}
    for agency in AGENCY_CATEGORIES:
        if draw(often):  # mostly present
            entrustments[agency] = draw(entrustment(agency))
    count = draw(st.integers(0, 3))
    agreements = [draw(agreement(i, bank, category)) for i in range(count)]
    found = {}
    for b in BANKS:
        for code in USCCS:
            if draw(often):
                found[(b, code)] = draw(consents)
    return {
        "event": {"category": category, "op": op, "uscc": uscc, "before": before, "after": after},
        "bank": bank,
        "entrustments": entrustments,
        "agreements": agreements,
        "consents": found,
        "profile": draw(profiles),
        "keys": {
            b: f"secret-of-{b}".encode()
            for b in draw(mostly(set(BANKS), st.sets(st.sampled_from(BANKS))))
        },
    }


def governance(case: dict[str, Any]) -> Governance:
    records: list[Agreement | Entrustment | Consent] = []
    for agency, e in case["entrustments"].items():
        records.append(
            Entrustment(
                agency=agency,
                categories=e["categories"],
                status=e["status"],
                effective_from=e["from"],
                effective_until=e["until"],
            )
        )
    for a in case["agreements"]:
        records.append(
            Agreement.model_validate(
                {
                    "id": a["id"],
                    "bank": a["bank"],
                    "version": a["version"],
                    "purpose": "p",
                    "status": a["status"],
                    "effective_from": a["from"],
                    "effective_until": a["until"],
                    "grants": [
                        {**g, "filter": None if g["filter"] is None else FILTERS[g["filter"]][0]}
                        for g in a["grants"]
                    ],
                }
            )
        )
    for (bank, uscc), c in case["consents"].items():
        records.append(
            Consent(
                uscc=uscc,
                bank=bank,
                categories=c["categories"],
                granted_at=c["granted"],
                expires_at=c["expires"],
                revoked=c["revoked"],
            )
        )
    return Governance.of(records)


def test_decide_agrees_with_an_independent_oracle() -> None:
    seen: Counter[str] = Counter()

    @settings(
        max_examples=3000,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case=cases())
    def check(case: dict[str, Any]) -> None:
        e = case["event"]
        event = Event(e["category"], e["op"], e["uscc"], e["before"], e["after"])
        got = decide(event, case["bank"], governance(case), case["profile"], NOW, case["keys"])
        want = oracle(case)
        assert got.reason is want.reason, got.detail
        assert got.bank == case["bank"] and got.detail
        if want.reason is Reason.delivered:
            assert got.agreement_id == want.agreement_id
            assert (got.before, got.after) == (want.before, want.after)
            assert (got.masked, got.dropped) == (want.masked, want.dropped)
            assert got.op == want.op
            seen.update(f"mask-{kind}" for kind in want.mask_kinds)
            seen[f"{e['op']}->{want.op}"] += 1
        else:
            assert got.before is None and got.after is None
            if want.agreement_id is not None:
                assert got.agreement_id == want.agreement_id
        seen[want.reason.value] += 1

    check()
    # The generated states reach every reason, and deliveries with every kind of mask.
    assert {r.value for r in Reason if r is not Reason.retracted} <= set(seen), seen
    assert {"mask-drop", "mask-hash", "mask-partial", "mask-generalize"} <= set(seen), seen


ROW_FILTERS = [
    i
    for i, (text, _, _) in enumerate(FILTERS)
    if text.startswith(("record.amount", "record.rating"))
]


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    """Updates that pass every rule up to the row filter, so the filter decides what the
    bank's view sees: both sides, one side, or neither."""
    uscc = draw(st.sampled_from(USCCS))
    bank = draw(st.sampled_from(BANKS))
    category = CATEGORIES[0]
    grant_ = draw(grant(category))
    grant_.update(filter=draw(st.sampled_from(ROW_FILTERS)), consent_required=False)
    agreement_ = {
        "id": "a0",
        "bank": bank,
        "version": 1,
        "status": "active",
        "from": OPEN[0],
        "until": OPEN[1],
        "grants": [grant_],
    }
    tax = {"status": "active", "from": OPEN[0], "until": None, "categories": [category]}
    return {
        "event": {
            "category": category,
            "op": "u",
            "uscc": uscc,
            "before": draw(record(uscc)),
            "after": draw(record(uscc)),
        },
        "bank": bank,
        "entrustments": {"tax": tax},
        "agreements": [agreement_],
        "consents": {},
        "profile": None,
        "keys": {b: f"secret-of-{b}".encode() for b in BANKS},
    }


def test_updates_through_a_filtered_view_agree_with_the_oracle() -> None:
    """Both sides pass: an update with masked before and after; only after: a create
    without before; only before: a delete with the masked before; neither: filtered."""
    seen: Counter[str] = Counter()

    @settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(case=updates())
    def check(case: dict[str, Any]) -> None:
        e = case["event"]
        event = Event(e["category"], "u", e["uscc"], e["before"], e["after"])
        got = decide(event, case["bank"], governance(case), None, NOW, case["keys"])
        want = oracle(case)
        assert got.reason is want.reason, got.detail
        if want.reason is Reason.delivered:
            assert got.op == want.op
            assert (got.before, got.after) == (want.before, want.after)
            if want.op == "c":
                assert got.before is None, "a before outside the view never reaches the bank"
            if want.op == "d":
                assert got.after is None and got.before is not None
            seen[f"u->{want.op}"] += 1
            if want.mask_kinds and got.before is not None:
                seen["masked-before"] += 1
        else:
            assert got.before is None and got.after is None
            seen[want.reason.value] += 1

    check()
    assert {"u->u", "u->c", "u->d", "filtered", "masked-before"} <= set(seen), seen
