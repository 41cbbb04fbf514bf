"""Retraction: when an enterprise withdraws its consent, or an agreement whose grant says
`on_end: retract` ends, the bank is told to erase.

A revoked consent: for each category the bank received under it (its agreement's grants
that need consent, within the consent's categories), the worker owning the enterprise's
partition sends to the bank topic a delete naming the reason and the governance version
(headers `sharebus_retraction`, `sharebus_governance_version`), then a tombstone, so the
bank's compacted copy forgets the enterprise; and it records it in the audit (reason
`retracted`). This is what China's Personal Information Protection Law asks of a
recipient when consent is withdrawn.

An ended agreement (terminated, or past `effective_until`): for each grant with
`on_end: retract`, every key the bank still holds on that topic under that agreement
(its compacted bank topic read to the end: the latest record of the key is not a
tombstone and came under the agreement) is retracted the same way, by the worker owning
the key's partition. What the bank holds is read, not remembered, so a worker that was
down when the agreement ended, or takes a partition over, still retracts, and a second
sweep finds nothing left. A category another agreement in force grants the same bank is
not retracted: the bank still may hold it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from foundation import headers as h
from foundation.reading import read_partitions_to_end
from governance.decision import Decision, Event, Reason
from governance.models import Agreement, ConsentEvent, Governance, Grant, Status
from schemas import names
from streams.fanout import FanOut, Outgoing, Source
from streams.murmur2 import partition_of

CONSENT_REVOKED = "consent-revoked"
AGREEMENT_ENDED = "agreement-ended"


@dataclass(frozen=True)
class Revocation:
    """A consent revocation that came into force at `version`."""

    event: ConsentEvent
    version: int


@dataclass(frozen=True)
class Erasure:
    """Why a bank erases: the reason header, the ids and the words of the audit."""

    reason: str
    ident: str  # unique per erasure and category: the retraction's event id
    detail: str
    position: str  # what caused it, as the audit's `source`
    version: int  # the governance version that says so


def retractions(
    fanout: FanOut,
    gov: Governance,
    revocation: Revocation,
    owns: Callable[[str, int], bool],
    partitions: Callable[[str], int | None],
    now: datetime | None = None,
) -> list[Outgoing]:
    """What to send for one revocation, for the partitions this worker owns."""
    now = now or datetime.now(UTC)
    event = revocation.event
    key = event.uscc.encode()
    out: list[Outgoing] = []
    for agreement in gov.agreements_of(event.bank):
        for grant in agreement.grants:
            covered = event.categories == "all" or grant.category in event.categories
            if not (grant.consent_required and covered):
                continue
            topic = names.bank_topic(event.bank, grant.category)
            count = partitions(topic)
            if count is None:
                continue  # the bank never received anything of this category
            partition = partition_of(key, count)
            if not owns(names.source_topic(grant.category), partition):
                continue
            why = Erasure(
                CONSENT_REVOKED,
                f"retraction-{event.id}-{grant.category}",
                f"consent of {event.uscc} for {event.bank} revoked"
                f" (governance version {revocation.version}): the bank is told to erase",
                f"{names.CONSENTS}/{event.id}",
                revocation.version,
            )
            out += retract_key(fanout, gov, agreement, grant, key, partition, why, now)
    return out


def ended(agreement: Agreement, now: datetime) -> bool:
    """Terminated, or past its window: it will not deliver again (a suspension may)."""
    return agreement.status is Status.terminated or now >= agreement.effective_until


def ended_retracting(gov: Governance, now: datetime) -> list[tuple[Agreement, Grant]]:
    """The grants with `on_end: retract` of the agreements that have ended, except those
    of a category another agreement of the bank in force still grants."""
    out = []
    for agreement in gov.agreements.values():
        if not ended(agreement, now):
            continue
        for grant in agreement.grants:
            if grant.on_end != "retract":
                continue
            still = any(
                other.grant_for(grant.category) is not None
                for other in gov.agreements_of(agreement.bank)
                if other.status is Status.active and other.in_window(now)
            )
            if not still:
                out.append((agreement, grant))
    return out


def holdings_of(
    conf: dict[str, Any], group: str, partitions: list[tuple[str, int]]
) -> dict[tuple[str, int], dict[bytes, str]]:
    """What the bank holds on each partition of its topics: each key whose latest record,
    read to the end the partition has now, is not a tombstone, with the agreement it came
    under. Read with one consumer; a topic deleted since it was listed holds nothing."""
    latest: dict[tuple[str, int], dict[bytes, str]] = {where: {} for where in partitions}
    for msg in read_partitions_to_end(conf, group, partitions):
        key = msg.key()
        if key is None:
            continue
        held = latest.setdefault((msg.topic() or "", msg.partition() or 0), {})
        if msg.value() is None:
            held.pop(key, None)
        else:
            under = dict(msg.headers() or []).get(h.AGREEMENT_ID)
            held[key] = under.decode() if isinstance(under, bytes) else ""
    return latest


def agreement_retractions(
    fanout: FanOut,
    gov: Governance,
    agreement: Agreement,
    grant: Grant,
    partition: int,
    keys: Iterable[bytes],
    now: datetime | None = None,
) -> list[Outgoing]:
    """What to send for the keys the bank holds of an ended agreement's grant on one
    partition of its topic."""
    now = now or datetime.now(UTC)
    how = (
        "terminated"
        if agreement.status is Status.terminated
        else f"past its end {agreement.effective_until.isoformat()}"
    )
    out: list[Outgoing] = []
    for key in keys:
        uscc = key.decode(errors="replace")
        why = Erasure(
            AGREEMENT_ENDED,
            f"retraction-{agreement.id}.v{agreement.version}-{grant.category}-{uscc}",
            f"agreement {agreement.id} (version {agreement.version}) {how}, and its grant of"
            f" {grant.category} says on_end: retract (governance version {gov.version}):"
            " the bank is told to erase",
            f"{names.AGREEMENTS}/{agreement.id}",
            gov.version,
        )
        out += retract_key(fanout, gov, agreement, grant, key, partition, why, now)
    return out


def retract_key(
    fanout: FanOut,
    gov: Governance,
    agreement: Agreement,
    grant: Grant,
    key: bytes,
    partition: int,
    why: Erasure,
    now: datetime,
) -> list[Outgoing]:
    """A delete naming the reason and a tombstone on the bank topic, and the audit record."""
    bank = agreement.bank
    topic = names.bank_topic(bank, grant.category)
    decision = Decision(
        bank,
        Reason.retracted,
        agreement.id,
        agreement.version,
        agreement.purpose,
        grant.retention_days,
        op="d",
        detail=why.detail,
    )
    headers: h.Headers = [
        (h.ID, why.ident.encode()),
        (h.AGREEMENT_ID, agreement.id.encode()),
        (h.PURPOSE, agreement.purpose.encode()),
        (h.RETRACTION, why.reason.encode()),
        (h.GOVERNANCE_VERSION, str(why.version).encode()),
    ]
    value = fanout.retraction_value(agreement, grant, bank, topic, now)
    source_topic = names.source_topic(grant.category)
    src = Source(source_topic, partition, -1, key, None, [])
    event = Event(grant.category, "d", key.decode(errors="replace"), None, None)
    return [
        Outgoing(topic, key, value, headers, partition, grant.retention_days),
        Outgoing(topic, key, None, headers, partition, grant.retention_days),
        fanout.audit(event, decision, src, why.ident, why.position, gov, now),
    ]
