"""Does a row filter run on every well-typed record? Checked before it is applied.

The CEL runtime has no static type checker for our variables, so the check runs the
filter on records built from the category's schema: every field present, at low and at
high values, and then each nullable field in turn set to null, with an enterprise
profile read the same way. A filter that raises on any of them (a nullable field compared
with a number, `double + int`, a result that is not a bool) would deny every such record
at run time with reason `error`; validation refuses it instead, naming the case.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from governance.cel import PROFILE_FIELDS, compile_filter, evaluate
from governance.errors import FilterError, ProfileUnknownError
from schemas.catalog import Category


def filter_type_problems(
    expr: str, category: Category, registration: Category | None = None
) -> list[str]:
    """Why `expr` would fail at run time on a valid record of `category`, if it would."""
    program = compile_filter(expr)
    for label, record, profile in _cases(category, registration):
        try:
            evaluate(program, record, "u", profile)
        except ProfileUnknownError:
            continue
        except FilterError as exc:
            return [f"fails on a valid record {label}: {exc}"]
    return []


def _cases(
    category: Category, registration: Category | None
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    profile_fields = [
        f for f in (registration.fields if registration else ()) if f.name in PROFILE_FIELDS
    ]
    for level in ("low", "high"):
        record = {f.name: _sample(f.type, level) for f in category.fields}
        profile = {f.name: _sample(f.type, level) for f in profile_fields}
        yield f"(every field set, {level} values)", record, profile
        for f in category.fields:
            if f.optional:
                yield (
                    f"where record.{f.name} is null"
                    f" (it is nullable: test `record.{f.name} != null` first)",
                    {**record, f.name: None},
                    profile,
                )
        for f in profile_fields:
            if f.optional:
                yield (
                    f"where enterprise.{f.name} is null (it is nullable: test it first)",
                    record,
                    {**profile, f.name: None},
                )


def _sample(avro: Any, level: str) -> Any:
    high = level == "high"
    if isinstance(avro, list):
        branches = [t for t in avro if t != "null"]
        return _sample(branches[0], level) if branches else None
    if isinstance(avro, Mapping):
        logical = avro.get("logicalType")
        kind = avro.get("type")
        if logical == "decimal":
            return Decimal("99999999.99") if high else Decimal("0.00")
        if logical in ("timestamp-millis", "timestamp-micros"):
            return datetime(2030, 12, 31, tzinfo=UTC) if high else datetime(2000, 1, 1, tzinfo=UTC)
        if logical == "date":
            return date(2030, 12, 31) if high else date(2000, 1, 1)
        if kind == "enum":
            symbols = avro.get("symbols") or [""]
            return symbols[-1] if high else symbols[0]
        if kind == "array":
            return [_sample(avro.get("items"), level)]
        if kind == "map":
            return {"k": _sample(avro.get("values"), level)}
        if kind == "record":
            return {f["name"]: _sample(f["type"], level) for f in avro.get("fields", [])}
        return _sample(kind, level)
    return {
        "string": "ZZZZ" if high else "",
        "int": 2_000_000 if high else 0,
        "long": 10**12 if high else 0,
        "float": 1e9 if high else 0.0,
        "double": 1e9 if high else 0.0,
        "boolean": high,
        "bytes": b"",
    }.get(str(avro))
