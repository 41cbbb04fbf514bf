"""Governance records as pydantic models; unknown keys are errors (`extra="forbid"`).

Three kinds, each kept as YAML and applied to its compacted topic:
entrustments (an agency hands categories over for sharing), agreements (what a bank may
receive, why, until when, under what conditions) and consents (an enterprise authorises
a bank). `Governance` is the state a decision reads: a snapshot of all three.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Status(StrEnum):
    active = "active"
    suspended = "suspended"
    terminated = "terminated"


AgreementStatus = Status


class Mask(_Strict):
    """How one granted field is masked before it reaches the bank.

    drop: not delivered at all; hash: HMAC-SHA256 with the bank's secret (hex);
    partial: keep the first/last N characters, `*` between; generalize: a date or an
    instant to its month (`2026-05`), a number to its band (`[10000,50000)`).
    """

    kind: Literal["drop", "hash", "partial", "generalize"]
    keep_first: int = Field(0, ge=0, description="partial: characters kept at the start")
    keep_last: int = Field(0, ge=0, description="partial: characters kept at the end")


class Grant(_Strict):
    """What an agreement allows of one category."""

    category: str
    fields: list[str] = Field(min_length=1, description="fields the bank may receive")
    masks: dict[str, Mask] = Field(default_factory=dict)
    filter: str | None = Field(None, description="CEL row filter over record, op, enterprise")
    consent_required: bool = False
    retention_days: int = Field(30, ge=1)

    @model_validator(mode="after")
    def _masks_on_granted_fields(self) -> Grant:
        stray = sorted(set(self.masks) - set(self.fields))
        if stray:
            raise ValueError(f"masks on fields not granted: {', '.join(stray)}")
        return self


class Agreement(_Strict):
    """A bank's signed data-usage agreement. Keyed by `id`."""

    kind: Literal["agreement"] = "agreement"
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: int = Field(1, ge=1)
    bank: str
    purpose: str
    status: Status = Status.active
    effective_from: AwareDatetime
    effective_until: AwareDatetime
    grants: list[Grant] = Field(default_factory=list)

    @model_validator(mode="after")
    def _window_ordered(self) -> Agreement:
        if self.effective_until <= self.effective_from:
            raise ValueError("effective_until must be after effective_from")
        return self

    @property
    def key(self) -> str:
        return self.id

    def grant_for(self, category: str) -> Grant | None:
        for grant in self.grants:
            if grant.category == category:
                return grant
        return None

    def in_window(self, now: datetime) -> bool:
        return self.effective_from <= now < self.effective_until


class Entrustment(_Strict):
    """An agency's entrustment of categories for sharing. Keyed by `agency`."""

    kind: Literal["entrustment"] = "entrustment"
    agency: str
    version: int = Field(1, ge=1)
    categories: list[str] = Field(min_length=1)
    status: Status = Status.active
    effective_from: AwareDatetime
    effective_until: AwareDatetime | None = None

    @property
    def key(self) -> str:
        return self.agency

    def in_window(self, now: datetime) -> bool:
        if now < self.effective_from:
            return False
        return self.effective_until is None or now < self.effective_until


class Consent(_Strict):
    """An enterprise's authorisation of one bank. Keyed `<bank>:<uscc>`."""

    kind: Literal["consent"] = "consent"
    uscc: str
    bank: str
    categories: list[str] | Literal["all"] = "all"
    granted_at: AwareDatetime
    expires_at: AwareDatetime
    revoked: bool = False

    @property
    def key(self) -> str:
        return f"{self.bank}:{self.uscc}"

    def covers(self, category: str, now: datetime) -> bool:
        if self.revoked or not (self.granted_at <= now < self.expires_at):
            return False
        return self.categories == "all" or category in self.categories


Record = Annotated[Agreement | Entrustment | Consent, Field(discriminator="kind")]


@dataclass(frozen=True)
class Governance:
    """The governance state a decision reads: every record, by key, and its version."""

    entrustments: Mapping[str, Entrustment] = field(default_factory=dict)
    agreements: Mapping[str, Agreement] = field(default_factory=dict)
    consents: Mapping[str, Consent] = field(default_factory=dict)
    version: int = 0
    _by_bank: dict[str, tuple[Agreement, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, list[Agreement]] = {}
        for agreement in self.agreements.values():
            index.setdefault(agreement.bank, []).append(agreement)
        self._by_bank.update({b: tuple(a) for b, a in index.items()})

    @classmethod
    def of(cls, records: list[Agreement | Entrustment | Consent], version: int = 0) -> Governance:
        return cls(
            entrustments={r.key: r for r in records if isinstance(r, Entrustment)},
            agreements={r.key: r for r in records if isinstance(r, Agreement)},
            consents={r.key: r for r in records if isinstance(r, Consent)},
            version=version,
        )

    def agreements_of(self, bank: str) -> tuple[Agreement, ...]:
        return self._by_bank.get(bank, ())

    def consent(self, bank: str, uscc: str) -> Consent | None:
        return self.consents.get(f"{bank}:{uscc}")
