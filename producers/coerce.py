"""Values from JSON and CSV turned into what the category's Avro schema wants.

JSON has no decimals, dates or instants, and CSV has only strings: amounts arrive as
"1234.50", instants as ISO-8601 text or epoch milliseconds, dates as "2026-11-28".
Coercion is driven by the schema, field by field, and says which field failed and why.
Decimals are checked against the schema's precision and scale, never rounded: an amount
a bank receives is exactly the amount the agency sent.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from math import isfinite
from typing import Any

from producers.errors import PublishError
from schemas.catalog import Category

# A bad value is quoted in a reason, never echoed whole: a rejects file stays readable.
QUOTE_LIMIT = 60

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
            except (ValueError, InvalidOperation, TypeError, OverflowError) as exc:
                raise PublishError(f"{where}.{f.name}: {exc}") from None
    return out


def quote(value: Any) -> str:
    """`repr(value)`, cut to a few dozen characters."""
    text = repr(value)
    if len(text) <= QUOTE_LIMIT:
        return text
    return f"{text[:QUOTE_LIMIT]}... ({len(text):,} characters)"


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
        return _decimal(value, avro_type.get("precision", 38), avro_type.get("scale", 0))
    if logical in ("timestamp-millis", "timestamp-micros"):
        return _instant(value)
    if logical == "date":
        return _date(value)
    if base in ("int", "long"):
        return _integer(value)
    if base in ("float", "double"):
        return _float(value)
    if not isinstance(value, str):
        return value
    if base == "boolean":
        lowered = value.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ValueError(f"expected a boolean, got {quote(value)}")
    return value


def _integer(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {quote(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, (Decimal, float)):
        if not isfinite(value) or value != int(value):
            raise ValueError(f"expected an integer, got {quote(value)}")
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise ValueError(f"expected an integer, got {quote(value)}") from None
    return value  # the schema check names the type


def _float(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {quote(value)}")
    if isinstance(value, (str, Decimal, int, float)):
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"expected a number, got {quote(value)}") from None
        if not isfinite(number):
            raise ValueError(f"expected a finite number, got {quote(value)}")
        return number
    return value


def _decimal(value: Any, precision: int, scale: int) -> Decimal:
    """`value` as a decimal that fits decimal(precision, scale) exactly, or ValueError."""
    kind = f"decimal({precision},{scale})"
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise ValueError(f"expected a {kind} amount, got {quote(value)}")
    try:
        if isinstance(value, Decimal):
            amount = value
        else:
            amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise ValueError(f"expected a {kind} amount, got {quote(value)}") from None
    if not amount.is_finite():
        raise ValueError(f"expected a finite {kind} amount, got {quote(value)}")
    whole_digits = precision - scale
    if amount != 0 and amount.adjusted() + 1 > whole_digits:
        raise ValueError(
            f"{quote(value)} does not fit {kind}: at most {whole_digits} digits before the point"
        )
    shifted = amount.scaleb(scale)
    if shifted != shifted.to_integral_value():
        raise ValueError(
            f"{quote(value)} has more than {scale} decimal places ({kind}); it is not rounded"
        )
    # Exactly `scale` places: the Avro encoder wants the schema's scale, and the value is
    # unchanged (trailing zeros only).
    return amount.quantize(Decimal(1).scaleb(-scale))


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"expected a date like 2026-11-28, got {quote(value)}") from None


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
            f"expected an ISO-8601 instant or epoch milliseconds, got {quote(value)}"
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
