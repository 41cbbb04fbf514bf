"""Governance records as pydantic models; unknown keys are errors (`extra="forbid"`).

Kept as YAML and applied to the governance topics: parties (the agencies and banks of
the programme), entrustments (an agency hands categories over for sharing), agreements
(what a bank may receive, why, until when, under what conditions) and consents (an
enterprise authorises a bank). Consents live on the bus as a ledger of `ConsentEvent`s
(grants and revocations); the consent in force is the fold of that ledger, so applying a
folder never undoes a revocation. `Governance` is the state a decision reads: a snapshot
of all of it at one version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    on_end: Literal["keep", "retract"] = Field(
        "keep",
        description="when the agreement ends: keep (the bank holds what it received for"
        " retention_days) or retract (the bank is told to erase every key it holds)",
    )

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


class PartyStatus(StrEnum):
    active = "active"
    retired = "retired"


class _Party(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    name_en: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    contact: str = Field("", description="who to call about this party")
    status: PartyStatus = PartyStatus.active

    @property
    def key(self) -> str:
        return self.id

    @property
    def active(self) -> bool:
        return self.status is PartyStatus.active


class Bank(_Party):
    """A bank of the programme: it signs agreements and reads its own topics."""

    kind: Literal["bank"] = "bank"

    @property
    def topic_prefix(self) -> str:
        return f"bank.{self.id}."

    @property
    def group_prefix(self) -> str:
        return f"{self.id}."


class Agency(_Party):
    """An agency of the programme: it entrusts categories and publishes their changes."""

    kind: Literal["agency"] = "agency"

    @property
    def topic_prefix(self) -> str:
        return f"pub.{self.id}."


class Consent(_Strict):
    """An enterprise's authorisation of one bank, as written in a folder, and as the state
    in force (the fold of the ledger). Keyed `<bank>:<uscc>`.

    In a folder, `revoked: true` records a grant the enterprise has since withdrawn.
    """

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

    def covers_any(self, now: datetime) -> bool:
        return not self.revoked and self.granted_at <= now < self.expires_at

    def covers(self, category: str, now: datetime) -> bool:
        if self.revoked or not (self.granted_at <= now < self.expires_at):
            return False
        return self.categories == "all" or category in self.categories


class ConsentEvent(_Strict):
    """One entry of the consent ledger: a grant or a revocation, by what source.

    `grant_id` names a grant: derived from its content for grants from a folder (so that
    applying the same folder again recognises it), random for the CLI. A revocation names
    the grant it ends, and ends the consent of `<bank>:<uscc>` whatever its categories.
    """

    kind: Literal["consent-event"] = "consent-event"
    id: str
    action: Literal["grant", "revoke"]
    bank: str
    uscc: str
    grant_id: str
    categories: list[str] | Literal["all"] = "all"
    granted_at: AwareDatetime | None = None
    expires_at: AwareDatetime | None = None
    at: AwareDatetime
    source: str = Field(description="file:<path>, cli, or api")
    reason: str = ""

    @property
    def key(self) -> str:
        return f"{self.bank}:{self.uscc}"

    @model_validator(mode="after")
    def _grants_have_a_window(self) -> ConsentEvent:
        if self.action == "grant" and (self.granted_at is None or self.expires_at is None):
            raise ValueError("a grant needs granted_at and expires_at")
        return self


class VersionMark(_Strict):
    """The last record of every apply: its version, and where its records landed.

    A worker switches to a version only once it has read past every offset named here,
    so it never decides on half of an apply.
    """

    kind: Literal["version"] = "version"
    version: int
    applied_at: AwareDatetime
    source: str
    summary: str = ""
    offsets: dict[str, int] = Field(
        default_factory=dict, description="'<topic>/<partition>' -> last offset written"
    )

    @property
    def key(self) -> str:
        return str(self.version)


Record = Annotated[
    Agreement | Entrustment | Consent | Bank | Agency | ConsentEvent | VersionMark,
    Field(discriminator="kind"),
]
FolderRecord = Agreement | Entrustment | Consent | Bank | Agency


def fold_consent(state: Consent | None, event: ConsentEvent) -> Consent | None:
    """The consent of one (bank, enterprise) after one more event of the ledger."""
    if event.action == "revoke":
        return None if state is None else state.model_copy(update={"revoked": True})
    assert event.granted_at is not None and event.expires_at is not None
    return Consent(
        uscc=event.uscc,
        bank=event.bank,
        categories=event.categories,
        granted_at=event.granted_at,
        expires_at=event.expires_at,
    )


@dataclass(frozen=True)
class Governance:
    """The governance state a decision reads: every record, by key, and its version."""

    entrustments: Mapping[str, Entrustment] = field(default_factory=dict)
    agreements: Mapping[str, Agreement] = field(default_factory=dict)
    consents: Mapping[str, Consent] = field(default_factory=dict)
    version: int = 0
    banks: Mapping[str, Bank] = field(default_factory=dict)
    agencies: Mapping[str, Agency] = field(default_factory=dict)
    # From the consent ledger: the grant behind each consent in force, and every grant id
    # ever recorded (so that applying a folder again never grants a revoked one anew).
    consent_grants: Mapping[str, ConsentEvent] = field(default_factory=dict)
    grant_ids: frozenset[str] = frozenset()
    # Derived, never passed in: `dataclasses.replace` builds them again for the new banks
    # and agreements (as init fields they were handed over, shared, and extended).
    _by_bank: dict[str, tuple[Agreement, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # Read for every event by the workers: computed once per snapshot.
    _active: tuple[str, ...] = field(default=(), init=False, repr=False, compare=False)
    # What pure functions of this snapshot computed once for it (the decision's grant per
    # bank and category): a snapshot never changes, so neither do they.
    memo: dict[object, object] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, list[Agreement]] = {}
        for agreement in self.agreements.values():
            index.setdefault(agreement.bank, []).append(agreement)
        object.__setattr__(self, "_by_bank", {b: tuple(a) for b, a in index.items()})
        active = tuple(sorted(b.id for b in self.banks.values() if b.active))
        object.__setattr__(self, "_active", active)

    @classmethod
    def of(cls, records: Sequence[FolderRecord], version: int = 0) -> Governance:
        return cls(
            entrustments={r.key: r for r in records if isinstance(r, Entrustment)},
            agreements={r.key: r for r in records if isinstance(r, Agreement)},
            consents={r.key: r for r in records if isinstance(r, Consent)},
            version=version,
            banks={r.key: r for r in records if isinstance(r, Bank)},
            agencies={r.key: r for r in records if isinstance(r, Agency)},
        )

    def active_banks(self) -> list[str]:
        """The banks decisions are made for, in a stable order."""
        return list(self._active)

    def agreements_of(self, bank: str) -> tuple[Agreement, ...]:
        return self._by_bank.get(bank, ())

    def consent(self, bank: str, uscc: str) -> Consent | None:
        return self.consents.get(f"{bank}:{uscc}")
