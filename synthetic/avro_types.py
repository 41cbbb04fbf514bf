"""Avro types for the generator: what kind a field's type is, a value made exact for it,
and a value from the type alone where no meaning applies (nested records, arrays, maps,
bytes, a value a meaning gives that the type cannot hold)."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from typing import Any, NamedTuple

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
EPOCH = dt.date(1970, 1, 1)
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
_LOGICAL = {
    ("bytes", "decimal"): "decimal",
    ("fixed", "decimal"): "decimal",
    ("int", "date"): "date",
    ("long", "timestamp-millis"): "timestamp",
    ("long", "timestamp-micros"): "timestamp",
    ("long", "local-timestamp-millis"): "local-timestamp",
    ("long", "local-timestamp-micros"): "local-timestamp",
    ("int", "time-millis"): "time",
    ("long", "time-micros"): "time",
    ("string", "uuid"): "uuid",
}
MISSING: Any = object()  # a value the type cannot hold


class Kind(NamedTuple):
    name: str  # a primitive, a logical type's short name, or record/enum/fixed/array/map
    schema: Any


def kinds(avro_type: Any, named: dict[str, Any]) -> tuple[tuple[Kind, ...], bool]:
    """The non-null branches of a type, resolved, and whether it may be null."""
    branches = avro_type if isinstance(avro_type, list) else [avro_type]
    resolved = tuple(kind_of(b, named) for b in branches if b != "null")
    return resolved, len(resolved) < len(branches)


def kind_of(schema: Any, named: dict[str, Any]) -> Kind:
    if isinstance(schema, str):
        if schema in PRIMITIVES:
            return Kind(schema, schema)
        return kind_of(named.get(schema) or named[schema.rsplit(".", 1)[-1]], named)
    if isinstance(schema, list):
        return Kind("union", schema)
    base, logical = schema.get("type"), schema.get("logicalType")
    if (base, logical) in _LOGICAL:
        return Kind(_LOGICAL[(base, logical)], schema)
    if base in ("record", "error", "enum", "fixed", "array", "map"):
        return Kind(str(base), schema)
    return kind_of(base, named)


def named_types(
    schema: Any, namespace: str = "", out: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Named types (records, enums, fixed) defined in `schema`, by full and by short name."""
    out = {} if out is None else out
    if isinstance(schema, list):
        for branch in schema:
            named_types(branch, namespace, out)
    elif isinstance(schema, dict):
        if schema.get("type") in ("record", "error", "enum", "fixed") and "name" in schema:
            name = schema["name"]
            space = schema.get("namespace", namespace)
            full = name if "." in name else ".".join(p for p in (space, name) if p)
            out[full] = schema
            out.setdefault(full.rsplit(".", 1)[-1], schema)
            namespace = full.rpartition(".")[0]
        for f in schema.get("fields", []):
            named_types(f["type"], namespace, out)
        for key in ("items", "values", "type"):
            if isinstance(schema.get(key), dict | list):
                named_types(schema[key], namespace, out)
    return out


def instant(rng: random.Random, day: dt.date) -> dt.datetime:
    """An instant in office hours, Shanghai time, of `day`, as UTC."""
    clock = dt.time(rng.randint(9, 17), rng.randrange(60), rng.randrange(60))
    local = dt.datetime.combine(day, clock.replace(microsecond=rng.randrange(1000) * 1000))
    return local.replace(tzinfo=SHANGHAI).astimezone(dt.UTC)


def fit(value: Any, kind: Kind, rng: random.Random) -> Any:
    """`value` made exact for `kind`, or MISSING when the kind cannot hold it."""
    name = kind.name
    if isinstance(value, dt.datetime):
        day: dt.date | None = value.astimezone(SHANGHAI).date()
    else:
        day = value if isinstance(value, dt.date) else None
    if name == "string":
        return value.isoformat() if day else value if isinstance(value, str) else str(value)
    if name in ("timestamp", "local-timestamp") and day:
        moment = value if isinstance(value, dt.datetime) else instant(rng, day)
        return moment if name == "timestamp" else moment.astimezone(SHANGHAI).replace(tzinfo=None)
    if name == "date":
        return day or MISSING
    if day:  # a date where a number is wanted: days (int) or epoch milliseconds (long)
        if name == "long":
            return int(instant(rng, day).timestamp() * 1000)
        return (day - EPOCH).days if name == "int" else MISSING
    if name == "boolean":
        return value if isinstance(value, bool) else MISSING
    if not isinstance(value, int | float | Decimal) or isinstance(value, bool):
        return value if name == "enum" and value in kind.schema["symbols"] else MISSING
    if name in ("int", "long"):
        return round(value)
    if name in ("float", "double"):
        return float(value)
    return decimal(value, kind.schema) if name == "decimal" else MISSING


def decimal(value: Any, schema: dict[str, Any]) -> Decimal:
    """A number as a decimal of the schema's scale, within its precision."""
    scale, precision = schema.get("scale", 0), schema["precision"]
    step = Decimal(1).scaleb(-scale)
    biggest = Decimal(10) ** (precision - scale) - step
    exact = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    return max(-biggest, min(biggest, exact)).quantize(step)


def by_type(kind: Kind, rng: random.Random, day: dt.date, named: dict[str, Any]) -> Any:
    """A valid value from the type alone."""
    name, schema = kind.name, kind.schema
    if name == "union":
        branches, nullable = kinds(schema, named)
        if nullable and rng.random() < 0.1:
            return None
        return by_type(rng.choice(branches), rng, day, named) if branches else None
    if name == "record":
        return {
            f["name"]: by_type(kind_of(f["type"], named), rng, day, named) for f in schema["fields"]
        }
    if name == "array":
        item = kind_of(schema["items"], named)
        return [by_type(item, rng, day, named) for _ in range(rng.randint(0, 3))]
    if name == "map":
        value = kind_of(schema["values"], named)
        return {f"k{i}": by_type(value, rng, day, named) for i in range(rng.randint(0, 3))}
    if name == "enum":
        symbols = schema["symbols"]
        # The first symbol is usually the normal case (ACTIVE, VALID, ...): two in three.
        weights = [max(1, 2 * (len(symbols) - 1))] + [1] * (len(symbols) - 1)
        return rng.choices(symbols, weights=weights)[0]
    simple = {
        "null": lambda: None,
        "boolean": lambda: rng.random() < 0.5,
        "int": lambda: rng.randint(0, 10_000),
        "long": lambda: rng.randint(0, 1_000_000_000),
        "float": lambda: round(rng.uniform(0, 10_000), 4),
        "double": lambda: round(rng.uniform(0, 10_000), 4),
        "bytes": lambda: rng.randbytes(rng.randint(4, 16)),
        "fixed": lambda: rng.randbytes(schema["size"]),
        "string": lambda: rng.choice(("正常", "已办结", "按期办理", "其他", "已核实", "无异常")),
        "uuid": lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "time": lambda: dt.time(rng.randint(8, 18), rng.randrange(60), rng.randrange(60)),
        "decimal": lambda: decimal(round(rng.uniform(0, 10_000), 2), schema),
        "date": lambda: day,
    }
    if name in simple:
        return simple[name]()
    moment = instant(rng, day)
    return moment if name == "timestamp" else moment.astimezone(SHANGHAI).replace(tzinfo=None)
