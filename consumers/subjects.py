"""Bank schema subjects registered ahead of the first delivery (`sharebus topics apply`).

A bank can then fetch its schemas, generate code and test its consumer before a single
record reaches it. The text registered is the one the worker's serde registers, so the
worker finds these versions instead of adding its own.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from confluent_kafka.schema_registry import Schema
from confluent_kafka.schema_registry.error import SchemaRegistryError

from governance.bank_schema import bank_schema
from governance.models import Governance
from schemas import names
from schemas.catalog import Catalog
from schemas.registry import REGISTER_CONCURRENCY
from schemas.serde import AvroSerde


@dataclass(frozen=True)
class BankSubject:
    subject: str
    schema_id: int
    new: bool


def register_bank_subjects(
    gov: Governance, catalog: Catalog, serde: AvroSerde
) -> list[BankSubject]:
    """Register the bank schema of every grant of every agreement (new subjects BACKWARD),
    a few subjects at a time: hundreds of grants one by one took tens of seconds."""
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    for agreement in sorted(gov.agreements.values(), key=lambda a: a.id):
        for grant in agreement.grants:
            subject = names.value_subject(names.bank_topic(agreement.bank, grant.category))
            schema = bank_schema(catalog, agreement.bank, grant)
            text = json.dumps(schema, sort_keys=True, ensure_ascii=False)
            wanted.setdefault((subject, text), schema)

    def one(item: tuple[tuple[str, str], dict[str, Any]]) -> BankSubject:
        (subject, text), schema = item
        try:
            existing = serde.registry.lookup_schema(subject, Schema(text, "AVRO"))
            known = existing.schema_id is not None
        except SchemaRegistryError:
            known = False
        schema_id, _ = serde.writer(subject, schema)
        return BankSubject(subject, schema_id, new=not known)

    with ThreadPoolExecutor(max_workers=REGISTER_CONCURRENCY) as pool:
        return list(pool.map(one, wanted.items()))
