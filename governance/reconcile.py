"""What applying a folder changes: the plan, against the governance in force.

A pure function of the folder and the state in force (read from the governance topics).
Every record of the folder is added, changed or left; every record in force that the
folder no longer holds is ended explicitly — an agreement or entrustment terminated (its
version raised), a party retired, a consent granted by a file revoked — never silently
left in force. Versions of agreements and entrustments only go up: one whose terms
changed but whose version did not is refused, so a signed document never changes under
the same number (suspending and reinstating change the status alone).

Consents are a ledger. A folder's consent is a grant recognised by its content
(`grant_id`): a grant already in the ledger is never written again, so a folder applied
after `sharebus consent revoke` leaves the revocation in force. Consents granted through
the CLI or an API are not the folder's to end.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeVar

from governance.models import (
    Agency,
    Agreement,
    Bank,
    Consent,
    ConsentEvent,
    Entrustment,
    Governance,
    PartyStatus,
    Status,
)

Action = Literal["add", "change", "end", "grant", "revoke"]
Written = Agreement | Entrustment | Bank | Agency | ConsentEvent
FILE_SOURCE = "file:"
Versioned = TypeVar("Versioned", Agreement, Entrustment)
Party = TypeVar("Party", Bank, Agency)


@dataclass(frozen=True)
class Change:
    """One record `apply` writes, and why, in words for the plan."""

    action: Action
    kind: str
    key: str
    detail: str
    record: Written


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for change in self.changes:
            out[change.action] = out.get(change.action, 0) + 1
        return out

    def summary(self) -> str:
        counts = self.counts()
        parts = [f"{counts.get(a, 0)} to {a}" for a in ("add", "change", "end")]
        parts += [f"{counts.get(a, 0)} consent(s) to {a}" for a in ("grant", "revoke")]
        return ", ".join(parts) + f", {self.unchanged} unchanged"


def grant_id_of(consent: Consent) -> str:
    """A folder grant's identity: its content, so the same grant is recognised again."""
    body = {
        "bank": consent.bank,
        "uscc": consent.uscc,
        "categories": consent.categories,
        "granted_at": consent.granted_at.isoformat(),
        "expires_at": consent.expires_at.isoformat(),
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:20]


def consent_event(
    action: Literal["grant", "revoke"],
    consent: Consent,
    grant_id: str,
    source: str,
    now: datetime,
    reason: str = "",
) -> ConsentEvent:
    return ConsentEvent(
        id=uuid.uuid4().hex,
        action=action,
        bank=consent.bank,
        uscc=consent.uscc,
        grant_id=grant_id,
        categories=consent.categories,
        granted_at=consent.granted_at if action == "grant" else None,
        expires_at=consent.expires_at if action == "grant" else None,
        at=now,
        source=source,
        reason=reason,
    )


def plan(
    desired: Governance,
    in_force: Governance,
    now: datetime,
    sources: dict[str, str] | None = None,
) -> Plan:
    """The changes that make `in_force` what `desired` (a whole folder) says.

    `sources` names the file of each folder consent (`<bank>:<uscc>` -> path), recorded
    in the ledger as the grant's source.
    """
    result = Plan()
    _versioned(result, "agreement", desired.agreements, in_force.agreements)
    _versioned(result, "entrustment", desired.entrustments, in_force.entrustments)
    _parties(result, "bank", desired.banks, in_force.banks)
    _parties(result, "agency", desired.agencies, in_force.agencies)
    _consents(result, desired, in_force, now, sources or {})
    return result


def _versioned(
    result: Plan,
    kind: str,
    desired: Mapping[str, Versioned],
    in_force: Mapping[str, Versioned],
) -> None:
    for key, want in sorted(desired.items()):
        have = in_force.get(key)
        if have is None:
            result.changes.append(Change("add", kind, key, f"v{want.version}", want))
        elif want == have:
            result.unchanged += 1
        else:
            refusal = _version_refusal(kind, key, want, have)
            if refusal:
                result.problems.append(refusal)
                continue
            detail = f"v{have.version} -> v{want.version}" + _status_change(have, want)
            result.changes.append(Change("change", kind, key, detail, want))
    for key, live in sorted(in_force.items()):
        if key in desired or live.status is Status.terminated:
            continue
        ended = live.model_copy(update={"status": Status.terminated})
        detail = f"not in the folder: v{live.version} terminated"
        result.changes.append(Change("end", kind, key, detail, ended))


def _version_refusal(
    kind: str, key: str, want: Agreement | Entrustment, have: Agreement | Entrustment
) -> str:
    """Why a changed record may not replace the one in force, or "" when it may.

    The version numbers the signed terms: changing them needs a higher version, and so
    does bringing back a terminated record. Suspending and reinstating change the status
    alone, under the same version.
    """
    where = f"{kind} {key} (in force v{have.version}, folder v{want.version})"
    if want.version < have.version:
        return f"{where}: versions only go up"
    if want.version > have.version:
        return ""
    if _terms(want) != _terms(have):
        return f"{where}: its terms changed but its version did not: raise `version`"
    if have.status is Status.terminated:
        return f"{where}: a terminated {kind} comes back only under a new version"
    return ""


def _terms(record: Agreement | Entrustment) -> dict[str, object]:
    return record.model_dump(exclude={"status"})


def _status_change(have: Agreement | Entrustment, want: Agreement | Entrustment) -> str:
    if have.status is want.status:
        return ""
    return f", {have.status.value} -> {want.status.value}"


def _parties(
    result: Plan,
    kind: str,
    desired: Mapping[str, Party],
    in_force: Mapping[str, Party],
) -> None:
    for key, want in sorted(desired.items()):
        have = in_force.get(key)
        if have is None:
            result.changes.append(Change("add", kind, key, want.name_en, want))
        elif want == have:
            result.unchanged += 1
        else:
            result.changes.append(Change("change", kind, key, want.name_en, want))
    for key, live in sorted(in_force.items()):
        if key not in desired and live.active:
            retired = live.model_copy(update={"status": PartyStatus.retired})
            result.changes.append(Change("end", kind, key, "not in the folder: retired", retired))


def _consents(
    result: Plan, desired: Governance, in_force: Governance, now: datetime, sources: dict[str, str]
) -> None:
    for key, want in sorted(desired.consents.items()):
        gid = grant_id_of(want)
        source = FILE_SOURCE + sources.get(key, "")
        current = in_force.consent_grants.get(key)
        holding = current is not None and current.grant_id == gid
        if gid in in_force.grant_ids:
            # Recorded before: never granted again, whatever happened to it since.
            live = in_force.consents.get(key)
            if want.revoked and holding and live is not None and not live.revoked:
                event = consent_event("revoke", want, gid, source, now, "revoked in the folder")
                result.changes.append(Change("revoke", "consent", key, event.reason, event))
            else:
                result.unchanged += 1
            continue
        grant = consent_event("grant", want, gid, source, now)
        result.changes.append(Change("grant", "consent", key, _window(want), grant))
        if want.revoked:
            event = consent_event("revoke", want, gid, source, now, "revoked in the folder")
            result.changes.append(Change("revoke", "consent", key, event.reason, event))
    for key, grant_event in sorted(in_force.consent_grants.items()):
        live = in_force.consents.get(key)
        from_file = grant_event.source.startswith(FILE_SOURCE)
        if key in desired.consents or not from_file or live is None or live.revoked:
            continue
        event = consent_event(
            "revoke", live, grant_event.grant_id, grant_event.source, now, "not in the folder"
        )
        result.changes.append(Change("revoke", "consent", key, event.reason, event))


def _window(consent: Consent) -> str:
    cats = "all" if consent.categories == "all" else ", ".join(consent.categories)
    return f"{cats}, {consent.granted_at.date()} .. {consent.expires_at.date()}"


def written(changes: Sequence[Change]) -> list[Written]:
    return [c.record for c in changes]
