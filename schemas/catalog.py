"""The catalog: agencies and categories, loaded once from the `.avsc` files.

Each file `schemas/avro/<agency>/<dataset>.avsc` is the category's record; the change
event that travels on the topic wraps it in the envelope of `schemas.envelope`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from schemas import names
from schemas.envelope import envelope_schema
from schemas.errors import SchemaError, UnknownCategoryError
from schemas.meaning_checks import record_problems
from schemas.meanings import FIELD_KEYS

SENSITIVITIES = ("public", "internal", "personal")

AGENCIES: dict[str, str] = {
    "tax": "Municipal Tax Service 税务局",
    "hrss": "Human Resources and Social Security 人力资源和社会保障局",
    "planning": "Planning and Natural Resources 规划和自然资源局",
    "ecology": "Ecology and Environment 生态环境局",
    "housing": "Housing and Urban-Rural Construction 住房和城乡建设管理委员会",
    "market": "Market Regulation 市场监督管理局",
    "stc": "Science and Technology Commission 科学技术委员会",
    "court": "High People's Court 高级人民法院",
}


@dataclass(frozen=True)
class Field:
    name: str
    type: Any
    sensitivity: str
    doc: str
    optional: bool
    meaning: str = ""  # what the field is, from the vocabulary of schemas.meanings
    params: dict[str, Any] = field(default_factory=dict)  # the meaning's parameters


@dataclass(frozen=True)
class Category:
    id: str
    agency: str
    dataset: str
    record: dict[str, Any] = field(repr=False)
    fields: tuple[Field, ...] = field(repr=False, default=())

    @property
    def topic(self) -> str:
        return names.source_topic(self.id)

    @property
    def subject(self) -> str:
        return names.value_subject(self.topic)

    @property
    def title(self) -> dict[str, str]:
        """The category's short name, {"en": ..., "zh": ...}."""
        return dict(self.record.get("title", {}))

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise SchemaError(f"{self.id} has no field '{name}'")

    def envelope(self) -> dict[str, Any]:
        """The Avro schema of the change events on this category's topic."""
        return envelope_schema(
            self.record, f"sharebus.pub.{self.agency}.{names.avro_name(self.dataset)}"
        )


class Catalog:
    """Every category of the bus, keyed by id (`<agency>.<dataset>`)."""

    def __init__(self, categories: dict[str, Category]) -> None:
        self._categories = dict(sorted(categories.items()))

    def __iter__(self) -> Iterator[Category]:
        return iter(self._categories.values())

    def __len__(self) -> int:
        return len(self._categories)

    def __contains__(self, category_id: object) -> bool:
        return category_id in self._categories

    def get(self, category_id: str) -> Category:
        try:
            return self._categories[category_id]
        except KeyError:
            raise UnknownCategoryError(f"unknown category '{category_id}'") from None

    def of_agency(self, agency: str) -> list[Category]:
        return [c for c in self._categories.values() if c.agency == agency]

    @property
    def ids(self) -> list[str]:
        return list(self._categories)


def parse_category(agency: str, dataset: str, text: str) -> Category:
    """Read one `.avsc` and check what the catalog promises of it."""
    category_id = f"{agency}.{dataset}"
    where = f"schemas/avro/{agency}/{dataset}.avsc"
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{where}: not JSON: {exc}") from exc
    if agency not in AGENCIES:
        raise SchemaError(f"{where}: unknown agency '{agency}'")
    if not names.CATEGORY_RE.match(category_id):
        raise SchemaError(f"{where}: '{category_id}' is not a valid category id")
    if not record.get("doc"):
        raise SchemaError(f"{where}: the record needs a doc")
    # Every field says what it means, so that data can be made for any category.
    problems = record_problems(record)
    if problems:
        raise SchemaError(f"{where}: {problems[0]}")
    fields = []
    for raw in record.get("fields", []):
        name = raw.get("name", "?")
        if raw.get("sensitivity") not in SENSITIVITIES:
            raise SchemaError(f"{where}: field '{name}' needs a sensitivity of {SENSITIVITIES}")
        if not raw.get("doc"):
            raise SchemaError(f"{where}: field '{name}' needs a doc")
        optional = isinstance(raw["type"], list) and "null" in raw["type"]
        params = {k: v for k, v in raw.items() if k not in FIELD_KEYS}
        meaning = str(raw.get("meaning", ""))
        fields.append(
            Field(name, raw["type"], raw["sensitivity"], raw["doc"], optional, meaning, params)
        )
    present = {f.name for f in fields}
    for required in ("uscc", "enterprise_name"):
        if required not in present:
            raise SchemaError(f"{where}: every category carries '{required}'")
    return Category(category_id, agency, dataset, record, tuple(fields))


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The catalog shipped with the package, parsed once per process."""
    root = resources.files("schemas").joinpath("avro")
    categories = {}
    for agency_dir in root.iterdir():
        if not agency_dir.is_dir():
            continue
        for avsc in agency_dir.iterdir():
            if avsc.name.endswith(".avsc"):
                dataset = avsc.name.removesuffix(".avsc")
                category = parse_category(agency_dir.name, dataset, avsc.read_text("utf-8"))
                categories[category.id] = category
    return Catalog(categories)
