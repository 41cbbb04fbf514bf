"""What a bank is granted, read from governance: topics, fields, masks, filters, consent,
retention, schema subjects, agreement and purpose — and the bank schema of each grant.

Pure functions of a `Governance` snapshot; the CLI and the AsyncAPI document read them,
and `topics apply` registers the schemas before the first delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from foundation.errors import SharebusError, UsageError
from governance.decision import delivered_fields
from governance.models import Agreement, Governance, Grant, Status
from schemas import names
from schemas.catalog import Catalog


class NotGrantedError(SharebusError):
    """The bank is not granted what it asked for."""


@dataclass(frozen=True)
class GrantView:
    """One grant of one agreement, as the bank sees it."""

    bank: str
    agreement: str
    agreement_version: int
    purpose: str
    status: str
    effective_from: datetime
    effective_until: datetime
    category: str
    fields: tuple[str, ...]  # delivered, in grant order (dropped ones left out)
    masks: dict[str, str]  # field -> how it is masked
    filter: str | None
    consent_required: bool
    retention_days: int
    on_end: str  # keep, or retract: told to erase when the agreement ends
    entrusted: bool

    @property
    def topic(self) -> str:
        return names.bank_topic(self.bank, self.category)

    @property
    def subject(self) -> str:
        return names.value_subject(self.topic)

    def as_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "subject": self.subject,
            "category": self.category,
            "agreement": self.agreement,
            "agreement_version": self.agreement_version,
            "purpose": self.purpose,
            "status": self.status,
            "effective_from": self.effective_from.isoformat(),
            "effective_until": self.effective_until.isoformat(),
            "fields": list(self.fields),
            "masks": self.masks,
            "filter": self.filter,
            "consent_required": self.consent_required,
            "retention_days": self.retention_days,
            "on_end": self.on_end,
            "entrusted": self.entrusted,
        }


def grants_of(gov: Governance, bank: str, now: datetime | None = None) -> list[GrantView]:
    """Every grant of every agreement of `bank` not terminated, in agreement then grant
    order. Suspended agreements are listed (with their status): their topics and what
    they retain stay readable, and they may resume."""
    now = now or datetime.now(UTC)
    views = []
    agreements = [a for a in gov.agreements_of(bank) if a.status is not Status.terminated]
    for agreement in sorted(agreements, key=lambda a: a.id):
        views += [_view(gov, agreement, grant, now) for grant in agreement.grants]
    return views


def _view(gov: Governance, agreement: Agreement, grant: Grant, now: datetime) -> GrantView:
    entrustment = next(
        (e for e in gov.entrustments.values() if grant.category in e.categories), None
    )
    entrusted = bool(entrustment and entrustment.status == "active" and entrustment.in_window(now))
    return GrantView(
        bank=agreement.bank,
        agreement=agreement.id,
        agreement_version=agreement.version,
        purpose=agreement.purpose,
        status=agreement.status.value,
        effective_from=agreement.effective_from,
        effective_until=agreement.effective_until,
        category=grant.category,
        fields=tuple(delivered_fields(grant)),
        masks={
            field: _mask_text(m.kind, m.keep_first, m.keep_last) for field, m in grant.masks.items()
        },
        filter=grant.filter,
        consent_required=grant.consent_required,
        retention_days=grant.retention_days,
        on_end=grant.on_end,
        entrusted=entrusted,
    )


def _mask_text(kind: str, first: int, last: int) -> str:
    if kind == "partial":
        return f"partial (first {first}, last {last} characters kept)"
    return {
        "drop": "drop (never delivered)",
        "hash": "hash (HMAC-SHA256 with the bank's key, hex)",
        "generalize": "generalize (dates to month, amounts to band)",
    }[kind]


def granted_categories(gov: Governance, bank: str) -> list[str]:
    return sorted({v.category for v in grants_of(gov, bank)})


def unknown_categories(unknown: list[str], bank: str, granted: list[str] | None) -> str:
    """The one line for categories the catalog does not have, naming what the bank is
    granted when that is known."""
    named = ", ".join(f"'{c}'" for c in unknown)
    if granted is None:
        return f"unknown category {named} (sharebus catalog list shows them)"
    return f"unknown category {named}; {bank} is granted: {', '.join(granted)}"


def check_request(gov: Governance, bank: str, categories: list[str], catalog: Catalog) -> list[str]:
    """The categories to read (all granted ones when none are named), or a clear error:
    an unknown bank or category is a usage error, an ungranted category is refused."""
    if bank not in gov.banks:
        known = ", ".join(gov.active_banks()) or "none"
        raise UsageError(f"unknown bank '{bank}': one of {known} (the banks in force)")
    granted = granted_categories(gov, bank)
    if not granted:
        raise NotGrantedError(f"bank {bank} is granted nothing (no agreement in force)")
    unknown = [c for c in categories if c not in catalog]
    if unknown:
        raise UsageError(unknown_categories(unknown, bank, granted))
    refused = [c for c in categories if c not in granted]
    if refused:
        raise NotGrantedError(
            f"bank {bank} is not granted {', '.join(refused)}; granted: {', '.join(granted)}"
        )
    return list(dict.fromkeys(categories)) or granted
