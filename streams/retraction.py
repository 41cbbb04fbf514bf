"""Retraction: when an enterprise withdraws its consent, the bank is told to erase.

For each category the bank received under the revoked consent (its agreement's grants
that need consent, within the consent's categories), the worker owning the enterprise's
partition sends to the bank topic a delete naming the reason and the governance version
(headers `sharebus_retraction`, `sharebus_governance_version`), then a tombstone, so the
bank's compacted copy forgets the enterprise; and it records it in the audit (reason
`retracted`). This is what China's Personal Information Protection Law asks of a
recipient when consent is withdrawn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from governance.decision import Decision, Event, Reason
from governance.models import ConsentEvent, Governance
from schemas import names
from sharebus import headers as h
from streams.fanout import FanOut, Outgoing, Source
from streams.murmur2 import partition_of

CONSENT_REVOKED = "consent-revoked"


@dataclass(frozen=True)
class Revocation:
    """A consent revocation that came into force at `version`."""

    event: ConsentEvent
    version: int


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
            source_topic = names.source_topic(grant.category)
            partition = partition_of(key, count)
            if not owns(source_topic, partition):
                continue
            detail = (
                f"consent of {event.uscc} for {event.bank} revoked"
                f" (governance version {revocation.version}): the bank is told to erase"
            )
            decision = Decision(
                event.bank,
                Reason.retracted,
                agreement.id,
                agreement.version,
                agreement.purpose,
                grant.retention_days,
                op="d",
                detail=detail,
            )
            headers: h.Headers = [
                (h.ID, f"retraction-{event.id}-{grant.category}".encode()),
                (h.AGREEMENT_ID, agreement.id.encode()),
                (h.PURPOSE, agreement.purpose.encode()),
                (h.RETRACTION, CONSENT_REVOKED.encode()),
                (h.GOVERNANCE_VERSION, str(revocation.version).encode()),
            ]
            value = fanout.retraction_value(agreement, grant, event.bank, topic, now)
            out.append(Outgoing(topic, key, value, headers, partition, grant.retention_days))
            out.append(Outgoing(topic, key, None, headers, partition, grant.retention_days))
            src = Source(source_topic, partition, -1, key, None, [])
            ev = Event(grant.category, "d", event.uscc, None, None)
            event_id = f"retraction-{event.id}-{grant.category}"
            position = f"{names.CONSENTS}/{event.id}"
            out.append(fanout.audit(ev, decision, src, event_id, position, gov, now))
    return out
