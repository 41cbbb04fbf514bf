"""Masks: what a bank receives in place of a granted field's value.

`drop` never reaches this module: the decision leaves a dropped field out of the record.
The other masks turn any value into a string (null stays null), so a masked field is
delivered as `["null", "string"]` whatever its source type:

- hash: HMAC-SHA256 of the value's canonical text with the bank's secret, in hex. A bank
  can join its own records on it; two banks, with different secrets, cannot join theirs.
- partial: the first `keep_first` and last `keep_last` characters of the canonical text,
  one `*` per character between. A value too short to keep both ends and hide at least one
  character is masked entirely.
- generalize: a date to its month (`2026-05`); an instant to its month in Shanghai local
  time (a naive datetime, as Avro `local-timestamp-*` decodes, is already local); a number
  to its band. Bands are in yuan, because amounts are what gets generalized; counts and
  other integers fall into the same bands, which suits headcounts and areas poorly but
  keeps one rule for every number.

Canonical text: strings as they are; booleans `true`/`false`; integers and decimals in
plain notation (`12000.50`, never an exponent); floats by `repr`; dates ISO 8601; aware
instants ISO 8601 in UTC; bytes in hex.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from governance.errors import MaskError
from governance.models import Mask

SHANGHAI = ZoneInfo("Asia/Shanghai")
MASKED_TYPE: tuple[str, str] = ("null", "string")
BAND_BOUNDS = (0, 10_000, 50_000, 100_000, 500_000, 1_000_000, 5_000_000, 10_000_000)

_NUMERIC = {"int", "long", "float", "double"}
_GENERALIZABLE_LOGICAL = {
    "date",
    "timestamp-millis",
    "timestamp-micros",
    "local-timestamp-millis",
    "local-timestamp-micros",
    "decimal",
}


def apply_mask(mask: Mask, value: Any, key: bytes | None) -> str | None:
    """The masked form of `value`; MaskError when the mask cannot apply (a deny)."""
    if value is None:
        return None
    if mask.kind == "hash":
        if not key:
            raise MaskError("a hash mask needs the bank's secret key")
        return hmac.new(key, canonical_text(value).encode("utf-8"), hashlib.sha256).hexdigest()
    if mask.kind == "partial":
        return partial(canonical_text(value), mask.keep_first, mask.keep_last)
    if mask.kind == "generalize":
        return generalize(value)
    raise MaskError(f"a {mask.kind} mask is not applied to values")


def canonical_text(value: Any) -> str:
    """The text a value is hashed or partially shown as (see the module docstring)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def partial(text: str, keep_first: int, keep_last: int) -> str:
    hidden = len(text) - keep_first - keep_last
    if hidden <= 0:
        return "*" * len(text)
    return text[:keep_first] + "*" * hidden + text[len(text) - keep_last :]


def generalize(value: Any) -> str:
    if isinstance(value, datetime):
        local = value.astimezone(SHANGHAI) if value.tzinfo else value
        return f"{local.year:04d}-{local.month:02d}"
    if isinstance(value, date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float):
        raise MaskError(f"cannot generalize a {type(value).__name__}")
    return band(value)


def band(amount: Decimal | int | float) -> str:
    """The band of an amount in yuan: `(-inf,0)`, `[0,10000)`, ..., `[10000000,+inf)`."""
    # A float NaN is the only value unequal to itself.
    nan = amount.is_nan() if isinstance(amount, Decimal) else amount != amount
    if nan:
        raise MaskError("cannot generalize NaN")
    if amount < 0:
        return "(-inf,0)"
    for low, high in pairwise(BAND_BOUNDS):
        if amount < high:
            return f"[{low},{high})"
    return f"[{BAND_BOUNDS[-1]},+inf)"


def masked_type(mask: Mask) -> list[str]:
    """The Avro type a field masked with `mask` is delivered with."""
    if mask.kind == "drop":
        raise MaskError("a dropped field is not delivered, so it has no type")
    return list(MASKED_TYPE)


def can_generalize(avro_type: Any) -> bool:
    """Whether fields of this Avro type can be generalized: dates, instants, numbers."""
    if isinstance(avro_type, list):
        branches = [b for b in avro_type if b != "null"]
        return bool(branches) and all(can_generalize(b) for b in branches)
    if isinstance(avro_type, str):
        return avro_type in _NUMERIC
    if isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        if logical is not None:
            return logical in _GENERALIZABLE_LOGICAL
        return avro_type.get("type") in _NUMERIC
    return False
