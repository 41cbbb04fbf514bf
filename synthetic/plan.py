"""What the generator reads of a category, once: each field's meaning, parameters and type.

A plan is kept per category (by id, checked against the record it was made from), so
making a record does no schema work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from schemas.catalog import Category
from synthetic.avro_types import Kind, kinds, named_types


@dataclass(frozen=True)
class Spec:
    """One field as the generator sees it."""

    name: str
    meaning: str  # "" for a field that says nothing (its type alone decides)
    params: dict[str, Any]
    branches: tuple[Kind, ...]  # the non-null branches of its type, resolved
    nullable: bool

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)

    @property
    def symbols(self) -> list[str]:
        """The symbols of its enum, empty for other types."""
        for kind in self.branches:
            if kind.name == "enum":
                return list(kind.schema["symbols"])
        return []


@dataclass(frozen=True)
class Plan:
    category: str
    agency: str
    history_years: float
    describes_enterprise: bool
    specs: dict[str, Spec]
    named: dict[str, Any]
    # The first field of each meaning (the status a follow-up date follows, the end a
    # status lapses with...).
    first: dict[str, str] = field(default_factory=dict)


_PLANS: dict[str, tuple[dict[str, Any], Plan]] = {}


def plan_of(category: Category) -> Plan:
    cached = _PLANS.get(category.id)
    if cached is not None and cached[0] is category.record:
        return cached[1]
    record = category.record
    named = named_types(record)
    specs: dict[str, Spec] = {}
    first: dict[str, str] = {}
    for raw in record["fields"]:
        meaning = str(raw.get("meaning", ""))
        params = {k: v for k, v in raw.items() if k not in ("name", "type", "doc", "meaning")}
        branches, nullable = kinds(raw["type"], named)
        specs[raw["name"]] = Spec(raw["name"], meaning, params, branches, nullable)
        first.setdefault(meaning, raw["name"])
    made = Plan(
        category.id,
        category.agency,
        float(record.get("history_years", 3)),
        record.get("describes") == "enterprise",
        specs,
        named,
        first,
    )
    _PLANS[category.id] = (record, made)
    return made
