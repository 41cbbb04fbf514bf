"""The governance changes a demo run makes mid-way, as an operator would, and their undoing.

- a consent revoked (`sharebus consent revoke`): the bank is told to erase (a retraction);
- an agreement suspended, then reinstated: deliveries stop at once (`suspended`), resume;
- an agreement signed late, activated, then backfilled (`sharebus backfill`): its bank
  receives the current state, then the live events.

At the end the sample governance is applied again and the revoked consent granted anew
(re-granting is a new grant in the ledger: an apply never undoes a revocation), so the
next run meets the same governance.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from foundation.settings import KafkaSettings, WorkerSettings
from governance.models import Consent, Governance, Status
from governance.reconcile import consent_event
from sharebus.backfill import Tally, backfill
from sharebus.governance_log import apply_folder, read_current, write

SUSPENDED = "ccb-inclusive-city-2026"
SUSPENDED_BANK = "ccb"
LATE = "bosc-supply-chain-2026"
REVOKING_BANK = "spdb"


class Scene:
    """The run's governance changes; each returns the line the demo shows."""

    def __init__(self, kafka: KafkaSettings, usccs: set[str]) -> None:
        self.kafka = kafka
        self.usccs = usccs
        self.revoked: Consent | None = None

    def _current(self) -> Governance:
        return read_current(self.kafka)

    def revoke(self) -> str:
        """Revoke the first consent to the bank, in force, of an enterprise of the run."""
        now = datetime.now(UTC)
        gov = self._current()
        consent = next(
            (
                c
                for c in gov.consents.values()
                if c.bank == REVOKING_BANK and c.uscc in self.usccs and c.covers_any(now)
            ),
            None,
        )
        if consent is None:
            return f"no consent to {REVOKING_BANK} in force to revoke"
        grant = gov.consent_grants.get(consent.key)
        event = consent_event(
            "revoke", consent, grant.grant_id if grant else "", "demo", now, "demo revocation"
        )
        version = write([event], self.kafka, source=f"demo: consent revoke {consent.key}")
        self.revoked = consent
        return f"consent {consent.key} revoked (governance version {version})"

    def set_status(self, agreement_id: str, status: Status, verb: str) -> str:
        agreement = self._current().agreements[agreement_id]
        changed = agreement.model_copy(update={"status": status})
        version = write([changed], self.kafka, source=f"demo: {verb} {agreement_id}")
        return f"agreement {agreement_id} {verb} (governance version {version})"

    def backfill(self, worker: WorkerSettings, report: list[str]) -> dict[str, Tally]:
        """The late agreement's current state to its bank, as `sharebus backfill` does."""
        return backfill(LATE, self._current(), self.kafka, worker, report.append)

    def restore(self, governance_dir: Path) -> str:
        """The sample governance again, and the revoked consent granted anew."""
        lines = []
        if self.revoked is not None:
            now = datetime.now(UTC)
            again = self.revoked.model_copy(update={"granted_at": now, "revoked": False})
            event = consent_event("grant", again, uuid.uuid4().hex[:20], "demo", now)
            write([event], self.kafka, source=f"demo: consent grant {again.key}")
            lines.append(f"consent {again.key} granted again")
        _, version = apply_folder(governance_dir, self.kafka)
        lines.append("sample governance in force" + (f" (version {version})" if version else ""))
        return "; ".join(lines)
