"""Bank schemas, derived from a source schema and what an agreement grants.

Every field of a bank record is nullable with a null default, so the bank subject stays
BACKWARD compatible as grants add or remove fields. A masked field (hash, partial,
generalize) is delivered as text.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

from schemas import names
from schemas.catalog import Category
from schemas.envelope import envelope_schema

MASKED_TYPE: list[Any] = ["null", "string"]


def bank_record_schema(
    category: Category, fields: list[str], masked: Collection[str] = ()
) -> dict[str, Any]:
    """The category record cut down to `fields`, each made optional; masked ones as text."""
    by_name = {f["name"]: f for f in category.record["fields"]}
    projected = []
    for name in fields:
        source = copy.deepcopy(by_name[name])
        source["type"] = list(MASKED_TYPE) if name in masked else _nullable(source["type"])
        source["default"] = None
        projected.append(source)
    record = {k: copy.deepcopy(v) for k, v in category.record.items() if k != "fields"}
    record["fields"] = projected
    return record


def bank_envelope(
    category: Category, bank: str, fields: list[str], masked: Collection[str] = ()
) -> dict[str, Any]:
    namespace = f"sharebus.bank.{bank}.{category.agency}.{names.avro_name(category.dataset)}"
    return envelope_schema(bank_record_schema(category, fields, masked), namespace)


def _nullable(avro_type: Any) -> Any:
    if isinstance(avro_type, list):
        return avro_type if avro_type and avro_type[0] == "null" else ["null", *avro_type]
    return ["null", avro_type]
