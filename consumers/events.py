"""What a bank's handler receives: one typed event per bank-topic message.

Three kinds, so that no handler has to guess from a null:

- `change`: op `c` (create), `u` (update), `d` (delete), `r` (backfill read of the
  current state); `before` / `after` hold the fields the agreement grants, masked;
- `retraction`: the enterprise's data must be erased (consent revoked, agreement ended);
  `reason` says why, `governance_version` which governance change caused it;
- `tombstone`: the key's last message, with no value; it follows every delete and every
  retraction so that a compacted copy forgets the enterprise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from consumers.dedup import SourcePosition
from foundation import headers as h
from schemas import names


class Kind(StrEnum):
    change = "change"
    retraction = "retraction"
    tombstone = "tombstone"


@dataclass(frozen=True)
class BankEvent:
    """One message of a bank topic, decoded."""

    kind: Kind
    key: str
    category: str
    topic: str
    partition: int
    offset: int
    op: str | None = None  # c, u, d, r; None for a tombstone
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    agreement: str | None = None
    purpose: str | None = None
    source: SourcePosition | None = None  # where the event was on the source topic
    changed_at: datetime | None = None  # when the change happened at the agency (ts_ms)
    published_at: str | None = None  # when the agency published it (ce_time, ISO 8601)
    event_id: str | None = None
    reason: str | None = None  # retractions: why
    governance_version: int | None = None  # retractions: the governance change
    backfill: str | None = None  # backfill events: the run id
    headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def record(self) -> dict[str, Any] | None:
        """The enterprise's record as it now stands for the bank (None once erased)."""
        if self.kind is not Kind.change or self.op == "d":
            return None
        return self.after

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict: timestamps in ISO 8601, decimals as text."""
        return {
            "kind": self.kind.value,
            "op": self.op,
            "key": self.key,
            "category": self.category,
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "source": str(self.source) if self.source else None,
            "agreement": self.agreement,
            "purpose": self.purpose,
            "event_id": self.event_id,
            "changed_at": iso(self.changed_at),
            "published_at": self.published_at,
            "reason": self.reason,
            "governance_version": self.governance_version,
            "backfill": self.backfill,
            "before": plain(self.before),
            "after": plain(self.after),
        }


def from_message(
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: dict[str, Any] | None,
    headers: dict[str, str],
) -> BankEvent:
    """The event a decoded bank message carries (`value` None: a tombstone)."""
    match = names.BANK_RE.match(topic)
    common: dict[str, Any] = {
        "key": key.decode("utf-8", "replace") if key is not None else "",
        "category": match.group("category") if match else "",
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "agreement": headers.get(h.AGREEMENT_ID),
        "purpose": headers.get(h.PURPOSE),
        "source": SourcePosition.parse(headers.get(h.SOURCE_POSITION)),
        "published_at": headers.get(h.TIME),
        "event_id": headers.get(h.ID),
        "headers": headers,
    }
    if value is None:
        return BankEvent(Kind.tombstone, **common)
    reason = headers.get(h.RETRACTION)
    version = headers.get(h.GOVERNANCE_VERSION)
    ts_ms = value.get("ts_ms")
    return BankEvent(
        Kind.retraction if reason else Kind.change,
        op=value.get("op"),
        before=value.get("before"),
        after=value.get("after"),
        changed_at=datetime.fromtimestamp(ts_ms / 1000, UTC) if ts_ms is not None else None,
        reason=reason,
        governance_version=int(version) if version and version.isdigit() else None,
        backfill=headers.get(h.BACKFILL),
        **common,
    )


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with milliseconds, `Z` for the zone."""
    if moment is None:
        return None
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def plain(value: Any) -> Any:
    """Avro values as JSON: instants and dates in ISO 8601, decimals as exact text."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value
