"""Governance records on Kafka: JSON values on compacted topics, keyed by the record's key.

JSON, not Avro: governance is small, written by operators, and must read plainly with
kcat. Each value carries `applied_version` (the apply that wrote it), so a worker can
say which governance version it has applied.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from governance.models import Agreement, Consent, Entrustment, Record
from schemas import names

TOPIC_OF_KIND = {
    "entrustment": names.ENTRUSTMENTS,
    "agreement": names.AGREEMENTS,
    "consent": names.CONSENTS,
}
KIND_OF_TOPIC = {topic: kind for kind, topic in TOPIC_OF_KIND.items()}

_RECORD: TypeAdapter[Agreement | Entrustment | Consent] = TypeAdapter(Record)


def encode(record: Agreement | Entrustment | Consent, applied_version: int) -> bytes:
    body: dict[str, Any] = record.model_dump(mode="json")
    body["applied_version"] = applied_version
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def decode(value: bytes) -> tuple[Agreement | Entrustment | Consent, int]:
    """The record and the version that applied it; ValueError when it is not one."""
    body = json.loads(value)
    version = int(body.pop("applied_version", 0))
    return _RECORD.validate_python(body), version
