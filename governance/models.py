"""Governance records as pydantic models; unknown keys are errors (`extra="forbid"`)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgreementStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    terminated = "terminated"


class Mask(_Strict):
    """How one granted field is masked before it reaches the bank."""

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
    """A bank's signed data-usage agreement."""

    kind: Literal["agreement"] = "agreement"
    id: str
    version: int = Field(1, ge=1)
    bank: str
    purpose: str
    status: AgreementStatus = AgreementStatus.active
    effective_from: datetime
    effective_until: datetime
    grants: list[Grant] = Field(default_factory=list)

    @model_validator(mode="after")
    def _window_ordered(self) -> Agreement:
        if self.effective_until <= self.effective_from:
            raise ValueError("effective_until must be after effective_from")
        return self

    def grant_for(self, category: str) -> Grant | None:
        for grant in self.grants:
            if grant.category == category:
                return grant
        return None

    def in_window(self, now: datetime) -> bool:
        return self.effective_from <= now < self.effective_until
