"""Event ids derived from what is published, so that publishing again is recognisable.

A random id per publish made a re-run of a file indistinguishable from new changes: a
flush time-out left "records not delivered" that had in fact arrived, and sending them
again produced copies nothing could tell apart. An id derived from the event instead is
the same on every run: a UUID (version 5, name-based) over a canonical JSON of the
agency, category, key, op, `before`, `after` and the event's place in its input.

Canonical means sorted keys, no spaces, decimals without trailing zeros, instants in
UTC milliseconds: the same line read from JSON or CSV, on any run, gives the same id.

The place (a file's line number) is part of the id on purpose. Content alone cannot
tell a replay from a change back to an earlier state: a file that sets a record to A,
then B, then A again would give its third line the first line's id, and a reader that
drops known ids would keep B. With the line number the three are three events, and
re-running the same file still gives each line its id. A caller whose system has its
own change ids passes those instead (`event_id` on a file line or to `publish`).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

# Fixed forever: changing it changes every id, and re-runs would no longer match.
NAMESPACE = uuid.UUID("5e1b3c0a-9f2d-5b7e-8c4a-6d0f2e1a7b93")
# CloudEvents asks only for a non-empty string; a header is no place for a document.
MAX_GIVEN_ID = 200


def event_id(
    agency: str,
    category: str,
    key: str,
    op: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    place: int | None = None,
) -> str:
    """The id of this event, the same on every run; `place` tells apart equal events
    at different places of one input (a file's line number)."""
    name = {
        "agency": agency,
        "category": category,
        "key": key,
        "op": op,
        "before": before,
        "after": after,
        "place": place,
    }
    return str(uuid.uuid5(NAMESPACE, canonical_json(name)))


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, normalised decimals and instants."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain
    )


def check_given_id(value: Any) -> str:
    """A caller's own event id, or ValueError saying why it cannot be one."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("event_id must be a non-empty string")
    if len(value) > MAX_GIVEN_ID or not value.isprintable():
        raise ValueError(f"event_id must be printable and at most {MAX_GIVEN_ID} characters")
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        # 10.5 and 10.50 are one amount: the id must not depend on how it was written.
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        millis = value.astimezone(UTC).isoformat(timespec="milliseconds")
        return millis.replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"cannot name an event holding {type(value).__name__}")
