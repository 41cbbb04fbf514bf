"""A compiled Avro writer for flat records: the audit's, written four times per event.

fastavro's `schemaless_writer` walks the parsed schema for every record: for a flat
record of twenty fields that is most of the cost of writing it. A flat record (fields of
primitive types, enums, `["null", X]` unions and arrays of strings) is compiled here once
into one small function per field, and a field's encoded bytes are kept per value: most
values repeat from record to record (a bank, a reason, an agreement, a category), so most
fields cost a dictionary look-up. The bytes are the same as fastavro's
(`tests/unit/test_flat_writer.py`); a schema this module cannot compile gets None, and
its caller keeps fastavro.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from schemas.errors import SchemaError

Encode = Callable[[Any], bytes]

KEEP = 4096  # encoded values kept per field; a field of unique values starts over
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NO_DEFAULT = object()


def compile_flat(schema: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bytes] | None:
    """A function writing records of `schema` as schemaless Avro, or None when the schema is
    not flat (nested records, maps, fixed, other logical types)."""
    if schema.get("type") != "record":
        return None
    fields: list[tuple[str, Encode, Any]] = []
    for spec in schema.get("fields", []):
        encode = _field(spec["type"])
        if encode is None:
            return None
        default = spec.get("default", _NO_DEFAULT)
        fields.append((spec["name"], _kept(encode), default))

    def write(record: Mapping[str, Any]) -> bytes:
        parts = []
        for name, encode, default in fields:
            value = record.get(name, default)
            if value is _NO_DEFAULT:
                raise SchemaError(f"record does not match its schema: no field {name}")
            parts.append(encode(value))
        return b"".join(parts)

    return write


def _kept(encode: Encode) -> Encode:
    kept: dict[Any, bytes] = {}

    def cached(value: Any) -> bytes:
        # A list is kept by its tuple; True and 1 are told apart by their type.
        key = (type(value), tuple(value) if type(value) is list else value)
        try:
            return kept[key]
        except KeyError:
            pass
        except TypeError:
            return encode(value)  # unhashable: a wrong type, encode says so
        if len(kept) >= KEEP:
            kept.clear()
        data = kept[key] = encode(value)
        return data

    return cached


def _field(avro: Any) -> Encode | None:
    if isinstance(avro, str):
        return _PRIMITIVES.get(avro)
    if isinstance(avro, list):
        return _union(avro)
    if not isinstance(avro, dict):
        return None
    kind = avro.get("type")
    logical = avro.get("logicalType")
    if kind == "enum":
        return _enum(avro["symbols"])
    if kind == "array":
        items = _field(avro["items"])
        return None if items is None or isinstance(avro["items"], list) else _array(items)
    if kind == "long" and logical == "timestamp-millis":
        return _timestamp_millis
    if logical is None and isinstance(kind, str):
        return _PRIMITIVES.get(kind)
    return None


def _union(branches: list[Any]) -> Encode | None:
    if len(branches) != 2 or branches[0] != "null":
        return None
    other = _field(branches[1])
    if other is None:
        return None

    def encode(value: Any) -> bytes:
        return b"\x00" if value is None else b"\x02" + other(value)

    return encode


def _enum(symbols: list[str]) -> Encode:
    index = {s: _long(i) for i, s in enumerate(symbols)}

    def encode(value: Any) -> bytes:
        try:
            return index[value]
        except KeyError:
            raise SchemaError(f"record does not match its schema: {value!r} not in enum") from None

    return encode


def _array(items: Encode) -> Encode:
    def encode(value: Any) -> bytes:
        if not isinstance(value, list | tuple):
            raise SchemaError(f"record does not match its schema: {value!r} is not an array")
        if not value:
            return b"\x00"
        return _long(len(value)) + b"".join(items(v) for v in value) + b"\x00"

    return encode


def _long(value: Any) -> bytes:
    if type(value) is not int:
        raise SchemaError(f"record does not match its schema: {value!r} is not an int")
    n = (value << 1) ^ (value >> 63)
    out = bytearray()
    while n & ~0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _string(value: Any) -> bytes:
    if type(value) is not str:
        raise SchemaError(f"record does not match its schema: {value!r} is not a string")
    data = value.encode("utf-8")
    return _long(len(data)) + data


def _boolean(value: Any) -> bytes:
    if type(value) is not bool:
        raise SchemaError(f"record does not match its schema: {value!r} is not a boolean")
    return b"\x01" if value else b"\x00"


def _timestamp_millis(value: Any) -> bytes:
    if isinstance(value, datetime):
        # As fastavro: a naive instant is taken as UTC.
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        delta = aware - _EPOCH
        value = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    return _long(value)


_PRIMITIVES: dict[str, Encode] = {
    "string": _string,
    "long": _long,
    "int": _long,
    "boolean": _boolean,
}
