"""The fan-out decision: a pure function of the event, the bank and the governance state.

No I/O here: the worker loops, calls `decide`, and sends. Deny is the default; any error
while deciding is a deny with reason `error`, never a delivery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from governance.models import Agreement, AgreementStatus


class Reason(StrEnum):
    delivered = "delivered"
    not_entrusted = "not-entrusted"
    no_agreement = "no-agreement"
    not_in_window = "not-in-window"
    suspended = "suspended"
    no_consent = "no-consent"
    filtered = "filtered"
    error = "error"


@dataclass(frozen=True)
class Event:
    """A decoded source event, as the decision sees it."""

    category: str
    op: str
    uscc: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class Governance:
    """The governance state a decision reads (a snapshot of the worker's tables)."""

    agreements: tuple[Agreement, ...] = ()

    def agreements_of(self, bank: str) -> list[Agreement]:
        return [a for a in self.agreements if a.bank == bank]


@dataclass(frozen=True)
class Decision:
    bank: str
    reason: Reason
    agreement: Agreement | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    dropped: tuple[str, ...] = field(default=())

    @property
    def delivered(self) -> bool:
        return self.reason is Reason.delivered


def decide(event: Event, bank: str, gov: Governance, now: datetime) -> Decision:
    """One decision for one (event, bank). Never raises: an error is a deny."""
    try:
        return _decide(event, bank, gov, now)
    except Exception:
        return Decision(bank, Reason.error)


def _decide(event: Event, bank: str, gov: Governance, now: datetime) -> Decision:
    granting = [a for a in gov.agreements_of(bank) if a.grant_for(event.category) is not None]
    if not granting:
        return Decision(bank, Reason.no_agreement)
    active = [a for a in granting if a.status is AgreementStatus.active]
    if not active:
        return Decision(bank, Reason.suspended, granting[0])
    current = [a for a in active if a.in_window(now)]
    if not current:
        return Decision(bank, Reason.not_in_window, active[0])
    agreement = current[0]
    grant = agreement.grant_for(event.category)
    assert grant is not None
    allowed = grant.fields
    source = event.after if event.after is not None else event.before
    dropped = tuple(sorted(set(source or {}) - set(allowed)))
    return Decision(
        bank,
        Reason.delivered,
        agreement,
        before=project(event.before, allowed),
        after=project(event.after, allowed),
        dropped=dropped,
    )


def project(record: dict[str, Any] | None, allowed: list[str]) -> dict[str, Any] | None:
    """Keep only the allowed fields (absent ones become null)."""
    if record is None:
        return None
    return {name: record.get(name) for name in allowed}
