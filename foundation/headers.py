"""CloudEvents headers (Kafka binary mode) and the bus's own headers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

SPECVERSION = "ce_specversion"
ID = "ce_id"
SOURCE = "ce_source"
TYPE = "ce_type"
TIME = "ce_time"
AGREEMENT_ID = "ce_agreementid"
PURPOSE = "ce_purpose"
SOURCE_POSITION = "sharebus_source"
# On bank topics: a retraction's reason (`consent-revoked`, `agreement-ended`) and the
# governance version that caused it; a backfill event's run id.
RETRACTION = "sharebus_retraction"
GOVERNANCE_VERSION = "sharebus_governance_version"
BACKFILL = "sharebus_backfill"
DLQ_REASON = "sharebus_dlq_reason"
DLQ_TOPIC = "sharebus_dlq_topic"

Headers = list[tuple[str, bytes]]


def cloudevent(agency: str, category: str, event_id: str) -> Headers:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return [
        (SPECVERSION, b"1.0"),
        (ID, event_id.encode()),
        (SOURCE, f"/agencies/{agency}".encode()),
        (TYPE, f"{category}.changed".encode()),
        (TIME, now.encode()),
    ]


def as_dict(
    headers: Iterable[tuple[str, bytes | str | None]] | dict[str, bytes | str | None] | None,
) -> dict[str, str]:
    """Headers as text (last value wins), for reading and printing."""
    out: dict[str, str] = {}
    pairs = headers.items() if isinstance(headers, dict) else headers or ()
    for key, value in pairs:
        if isinstance(value, bytes):
            out[key] = value.decode("utf-8", "replace")
        elif value is not None:
            out[key] = value
    return out


def position(topic: str, partition: int, offset: int) -> str:
    """The source position a bank uses to drop replayed duplicates."""
    return f"{topic}/{partition}/{offset}"
