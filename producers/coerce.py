"""Values from JSON and CSV turned into what the category's Avro schema wants.

JSON has no decimals, dates or instants, and CSV has only strings: amounts arrive as
"1234.50", instants as ISO-8601 text or epoch milliseconds, dates as "2026-11-28".
Coercion is driven by the schema, field by field, and says which field failed and why.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from producers.errors import PublishError
from schemas.catalog import Category

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}


def coerce_record(
    cat: Category, raw: dict[str, Any], *, from_csv: bool = False, where: str = "record"
) -> dict[str, Any]:
    """A copy of `raw` with each known field converted to its Avro Python type."""
    out = dict(raw)
    for f in cat.fields:
        if f.name in raw:
            try:
                out[f.name] = _coerce(f.type, raw[f.name], from_csv)
            except (ValueError, InvalidOperation, TypeError) as exc:
                raise PublishError(f"{where}.{f.name}: {exc}") from None
    return out


def _coerce(avro_type: Any, value: Any, from_csv: bool) -> Any:
    if isinstance(avro_type, list):
        if "null" in avro_type and (value is None or (from_csv and value == "")):
            return None
        branches = [t for t in avro_type if t != "null"]
        return _coerce(branches[0], value, from_csv) if len(branches) == 1 else value
    if value is None:
        return None
    logical = avro_type.get("logicalType") if isinstance(avro_type, dict) else None
    base = avro_type.get("type") if isinstance(avro_type, dict) else avro_type
    if logical == "decimal":
        return _decimal(value)
    if logical in ("timestamp-millis", "timestamp-micros"):
        return _instant(value)
    if logical == "date":
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if not isinstance(value, str):
        return value
    if base in ("int", "long"):
        return int(value)
    if base in ("float", "double"):
        return float(value)
    if base == "boolean":
        lowered = value.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ValueError(f"expected a boolean, got {value!r}")
    return value


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"expected a decimal amount, got {value!r}")
    try:
        return Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise ValueError(f"expected a decimal amount, got {value!r}") from None


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int) or (isinstance(value, str) and value.lstrip("-").isdigit()):
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    text = str(value).strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"expected an ISO-8601 instant or epoch milliseconds, got {value!r}"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_json(record: dict[str, Any]) -> str:
    """One record as a JSON line that `sharebus publish` reads back exactly."""
    return json.dumps(record, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
