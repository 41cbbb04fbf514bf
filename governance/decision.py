"""The fan-out decision: a pure function of the event, the bank and the governance state.

No I/O here: the worker loops, calls `decide`, and sends. The rules, in order (DESIGN.md,
"The fan-out decision"): the category is entrusted and in effect; an agreement of the bank
grants it, is active and in its window; the enterprise consented, where the grant needs
it; the row filter holds; then the record is projected to the granted fields and masked.

Deny is the default: any error while deciding is a deny with reason `error`, never a
delivery. Windows are half-open: a window that starts now is open, one that ends now is
closed (the same for consents). Filters are compiled once per expression (`governance.cel`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from governance.cel import compile_filter, evaluate
from governance.errors import ProfileUnknownError
from governance.masks import apply_mask
from governance.models import Agreement, Governance, Grant, Mask, Status

# Before and after every window: the ends of the spans a memoised answer holds for.
_START = datetime.min.replace(tzinfo=UTC)
_END = datetime.max.replace(tzinfo=UTC)

__all__ = ["Decision", "Event", "Governance", "Reason", "decide", "delivered_fields"]


class Reason(StrEnum):
    delivered = "delivered"
    not_entrusted = "not-entrusted"
    no_agreement = "no-agreement"
    not_in_window = "not-in-window"
    suspended = "suspended"
    terminated = "terminated"
    no_consent = "no-consent"
    filtered = "filtered"
    error = "error"
    # Not a decision on an event: the bank is told to erase what a revoked consent covered.
    retracted = "retracted"


@dataclass(frozen=True)
class Event:
    """A decoded source event, as the decision sees it."""

    category: str
    op: str
    uscc: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class Decision:
    """One decision for one (event, bank): what the audit records and the worker sends."""

    bank: str
    reason: Reason
    agreement_id: str | None = None
    agreement_version: int | None = None
    purpose: str | None = None
    retention_days: int | None = None
    before: dict[str, Any] | None = None  # projected and masked; None unless delivered
    after: dict[str, Any] | None = None
    op: str | None = None  # the op the bank receives (its view's change); None unless delivered
    masked: tuple[str, ...] = ()  # delivered fields that were masked, sorted
    dropped: tuple[str, ...] = ()  # fields of the source record not delivered, sorted
    detail: str = ""  # one line for people: why

    @property
    def delivered(self) -> bool:
        return self.reason is Reason.delivered


def decide(
    event: Event,
    bank: str,
    gov: Governance,
    profile: Mapping[str, Any] | None,
    now: datetime,
    mask_keys: Mapping[str, bytes],
) -> Decision:
    """One decision for one (event, bank). Never raises: an error is a deny."""
    try:
        return _decide(event, bank, gov, profile, now, mask_keys)
    except Exception as exc:
        return Decision(bank, Reason.error, detail=_one_line(exc))


def delivered_fields(grant: Grant) -> list[str]:
    """The fields a bank receives of a grant, in grant order: granted minus dropped."""
    masks = grant.masks
    return [f for f in grant.fields if f not in masks or masks[f].kind != "drop"]


def _decide(
    event: Event,
    bank: str,
    gov: Governance,
    profile: Mapping[str, Any] | None,
    now: datetime,
    mask_keys: Mapping[str, bytes],
) -> Decision:
    chosen = _governing(bank, event.category, gov, now)
    if isinstance(chosen, Decision):
        return chosen
    agreement, grant, fields = chosen

    def deny(reason: Reason, detail: str) -> Decision:
        return _deny_with(bank, reason, agreement, grant, detail)

    if grant.consent_required:
        refusal = _consent_refusal(event, bank, gov, now)
        if refusal:
            return deny(Reason.no_consent, refusal)

    view = event.op
    if grant.filter is not None:
        program = compile_filter(grant.filter)
        try:
            judged = _view_change(event, program, profile or {})
        except ProfileUnknownError as exc:
            return deny(Reason.filtered, str(exc))
        except Exception as exc:
            return deny(Reason.error, f"filter `{grant.filter}` failed: {exc}")
        if judged is None:
            return deny(Reason.filtered, f"filter `{grant.filter}` is false")
        view = judged

    key = mask_keys.get(bank)
    masks = grant.masks
    if not key and any(m.kind == "hash" for m in masks.values()):
        return deny(Reason.error, f"no hash key for bank {bank}")
    try:
        # A side that is not in the bank's view never reaches it, masked or not.
        before = _project(event.before, fields, masks, key) if view in ("u", "d") else None
        after = _project(event.after, fields, masks, key) if view != "d" else None
    except Exception as exc:
        return deny(Reason.error, f"cannot project and mask the record: {_one_line(exc)}")
    source = set(event.before or ()) | set(event.after or ())
    return Decision(
        bank,
        Reason.delivered,
        agreement.id,
        agreement.version,
        agreement.purpose,
        grant.retention_days,
        before=before,
        after=after,
        masked=tuple(sorted(f for f in fields if f in masks)),
        dropped=tuple(sorted(source.difference(fields))),
        detail=f"delivered under {agreement.id} v{agreement.version}" + _as(event.op, view),
        op=view,
    )


def _view_change(event: Event, program: Any, profile: Mapping[str, Any]) -> str | None:
    """The change the bank's filtered view sees, or None when it sees none.

    A bank topic is a filtered view of its source, so an update is judged on both sides:
    both pass, an update; only `after`, the record entered the view (a create); only
    `before`, it left the view (a delete); neither, nothing. A create or snapshot read is
    judged on `after`, a delete on `before`.
    """

    def passes(record: Mapping[str, Any] | None) -> bool:
        return evaluate(program, record, event.op, profile)

    if event.op in ("c", "r"):
        return event.op if passes(event.after) else None
    if event.op == "d":
        return "d" if passes(event.before) else None
    if event.before is None:
        return "u" if passes(event.after) else None
    if event.after is None:
        return "u" if passes(event.before) else None
    after_in, before_in = passes(event.after), passes(event.before)
    if after_in and before_in:
        return "u"
    if after_in:
        return "c"
    return "d" if before_in else None


def _as(source_op: str, bank_op: str) -> str:
    if source_op == bank_op:
        return ""
    if bank_op == "c":
        return ", as a create: the record entered the bank's filtered view"
    return ", as a delete: the record left the bank's filtered view"


def _governing(
    bank: str, category: str, gov: Governance, now: datetime
) -> tuple[Agreement, Grant, list[str]] | Decision:
    """The entrustment and agreement steps: the grant that governs (bank, category) with
    its delivered fields, or the deny.

    They read the event only for its category and `now` only against the windows' ends,
    so the answer holds from the last end at or before `now` until the next one: it is
    kept in the snapshot's memo for that span (the same for every event in between).
    """
    key = ("decision", bank, category)
    kept: Any = gov.memo.get(key)
    if kept is not None and kept[0] <= now < kept[1]:
        return kept[2]
    answer = _governing_now(bank, category, gov, now)
    ends = [a.effective_from for a in gov.agreements_of(bank)]
    ends += [a.effective_until for a in gov.agreements_of(bank)]
    entrustment = gov.entrustments.get(category.split(".", 1)[0])
    if entrustment is not None:
        ends += [entrustment.effective_from, entrustment.effective_until or _END]
    since = max((e for e in ends if e <= now), default=_START)
    until = min((e for e in ends if e > now), default=_END)
    gov.memo[key] = (since, until, answer)
    return answer


def _governing_now(
    bank: str, category: str, gov: Governance, now: datetime
) -> tuple[Agreement, Grant, list[str]] | Decision:
    refusal = _entrustment_refusal(category, gov, now)
    if refusal:
        return Decision(bank, Reason.not_entrusted, detail=refusal)
    chosen = _agreement(bank, category, gov, now)
    if isinstance(chosen, Decision):
        return chosen
    agreement, grant = chosen
    return agreement, grant, delivered_fields(grant)


def _entrustment_refusal(category: str, gov: Governance, now: datetime) -> str:
    agency = category.split(".", 1)[0]
    entrustment = gov.entrustments.get(agency)
    if entrustment is None:
        return f"agency {agency} has no entrustment"
    if entrustment.status is not Status.active:
        return f"the entrustment of {agency} is {entrustment.status.value}"
    if not entrustment.in_window(now):
        until = entrustment.effective_until
        window = f"{entrustment.effective_from.isoformat()} until " + (
            until.isoformat() if until else "further notice"
        )
        return f"the entrustment of {agency} is in effect from {window}, not now"
    if category not in entrustment.categories:
        return f"{agency} has not entrusted {category}"
    return ""


def _agreement(
    bank: str, category: str, gov: Governance, now: datetime
) -> tuple[Agreement, Grant] | Decision:
    """The agreement and grant that govern (bank, category), or the deny."""
    granting: list[tuple[Agreement, Grant]] = []
    for agreement in gov.agreements_of(bank):
        grant = agreement.grant_for(category)
        if grant is not None:
            granting.append((agreement, grant))
    if not granting:
        return Decision(
            bank, Reason.no_agreement, detail=f"no agreement of {bank} grants {category}"
        )
    active = [(a, g) for a, g in granting if a.status is Status.active]
    if not active:
        agreement, grant = _latest(granting)
        detail = "; ".join(f"agreement {a.id} is {a.status.value}" for a, _ in granting)
        # Suspended may come back; terminated (ended, or no longer in the folder) will not.
        paused = any(a.status is Status.suspended for a, _ in granting)
        reason = Reason.suspended if paused else Reason.terminated
        return _deny_with(bank, reason, agreement, grant, detail)
    current = [(a, g) for a, g in active if a.in_window(now)]
    if not current:
        agreement, grant = _latest(active)
        detail = (
            f"agreement {agreement.id} is in effect from {agreement.effective_from.isoformat()}"
            f" until {agreement.effective_until.isoformat()}, not now"
        )
        return _deny_with(bank, Reason.not_in_window, agreement, grant, detail)
    return _latest(current)


def _latest(candidates: list[tuple[Agreement, Grant]]) -> tuple[Agreement, Grant]:
    # Validation forbids overlapping windows; should two apply anyway, the choice is stable.
    return max(candidates, key=lambda ag: (ag[0].version, ag[0].id))


def _deny_with(
    bank: str, reason: Reason, agreement: Agreement, grant: Grant, detail: str
) -> Decision:
    return Decision(
        bank,
        reason,
        agreement.id,
        agreement.version,
        agreement.purpose,
        grant.retention_days,
        detail=detail,
    )


def _consent_refusal(event: Event, bank: str, gov: Governance, now: datetime) -> str:
    consent = gov.consent(bank, event.uscc)
    whose = f"consent of {event.uscc} for {bank}"
    if consent is None:
        return f"no {whose}"
    if consent.revoked:
        return f"{whose} was revoked"
    if now < consent.granted_at:
        return f"{whose} is granted from {consent.granted_at.isoformat()}"
    if now >= consent.expires_at:
        return f"{whose} expired {consent.expires_at.isoformat()}"
    if consent.categories != "all" and event.category not in consent.categories:
        return f"{whose} does not cover {event.category}"
    return ""


def _project(
    record: Mapping[str, Any] | None,
    fields: list[str],
    masks: Mapping[str, Mask],
    key: bytes | None,
) -> dict[str, Any] | None:
    """The record cut to `fields` (an absent field becomes null), masks applied."""
    if record is None:
        return None
    out = {}
    for name in fields:
        value = record.get(name)
        mask = masks.get(name)
        out[name] = value if mask is None else apply_mask(mask, value, key)
    return out


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__
