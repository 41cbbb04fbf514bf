"""Governance records on Kafka: JSON values on the governance topics.

JSON, not Avro: governance is small, written by operators, and must read plainly with
kcat. Each value carries `applied_version` (the apply that wrote it). Which topic and key
a record takes:

| record | topic | key |
|---|---|---|
| bank, agency | `sharebus.parties` (compacted) | `bank:<id>`, `agency:<id>` |
| entrustment | `sharebus.entrustments` (compacted) | the agency |
| agreement | `sharebus.agreements` (compacted) | the agreement id |
| consent event | `sharebus.consents` (a ledger: never compacted) | `<bank>:<uscc>` |
| version mark | `sharebus.governance-log` (a log) | the version |

Consents are keyed by (bank, enterprise) so that all events of one consent stay in one
partition, in order: the fold of the ledger depends on it.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from governance.models import (
    Agency,
    Agreement,
    Bank,
    ConsentEvent,
    Entrustment,
    Record,
    VersionMark,
)
from schemas import names

Stored = Agreement | Entrustment | Bank | Agency | ConsentEvent | VersionMark

TOPIC_OF_KIND = {
    "bank": names.PARTIES,
    "agency": names.PARTIES,
    "entrustment": names.ENTRUSTMENTS,
    "agreement": names.AGREEMENTS,
    "consent-event": names.CONSENTS,
    "version": names.GOVERNANCE_LOG,
}

_RECORD: TypeAdapter[Any] = TypeAdapter(Record)


def topic_of(record: Stored) -> str:
    return TOPIC_OF_KIND[record.kind]


def key_of(record: Stored) -> str:
    """The Kafka key of a record on its topic."""
    if isinstance(record, Bank | Agency):
        return f"{record.kind}:{record.key}"
    return record.key


def encode(record: Stored, applied_version: int) -> bytes:
    body: dict[str, Any] = record.model_dump(mode="json")
    body["applied_version"] = applied_version
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def decode(value: bytes) -> tuple[Stored, int]:
    """The record and the version that applied it; ValueError when it is not one."""
    body = json.loads(value)
    if not isinstance(body, dict):
        raise ValueError("not a governance record")
    version = int(body.pop("applied_version", 0))
    record = _RECORD.validate_python(body)
    if not isinstance(record, Stored):
        raise ValueError(f"a {record.kind} is written in a folder, not on the bus")
    return record, version
