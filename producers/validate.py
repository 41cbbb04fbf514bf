"""Validation of a change event before it is sent, with messages a data engineer can act on."""

from __future__ import annotations

from typing import Any

from fastavro.validation import ValidationError, validate

from producers.coerce import quote
from producers.errors import PublishError
from producers.files import Line
from schemas.catalog import Category
from schemas.envelope import OPS
from schemas.serde import parse_schema
from schemas.uscc import problem

_PARSED: dict[str, Any] = {}


def check_event(
    cat: Category,
    op: str,
    uscc: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> dict[str, Any]:
    """Return the envelope's op/before/after, or raise PublishError saying what is wrong."""
    if op not in OPS:
        raise PublishError(f"op must be one of {', '.join(OPS)}, got '{op}'")
    bad = problem(uscc)
    if bad:
        raise PublishError(f"invalid USCC: {bad}")
    if op in ("c", "r", "u") and after is None:
        raise PublishError(f"op '{op}' needs an 'after' record")
    if op == "d" and before is None:
        raise PublishError("op 'd' needs a 'before' record")
    for side, record in (("before", before), ("after", after)):
        if record is None:
            continue
        if record.get("uscc") != uscc:
            got = quote(record.get("uscc"))
            raise PublishError(f"{side}.uscc {got} differs from the key {quote(uscc)}")
        check_record(cat, record, side)
    return {"op": op, "before": before, "after": after}


def line_problem(cat: Category, line: Line) -> str | None:
    """Why `sharebus publish` would reject an input line, or None (size aside: that is
    the topic's to say)."""
    if line.problem or line.event is None:
        return line.problem or "nothing to publish"
    ev = line.event
    try:
        check_event(cat, ev.op, ev.uscc, ev.before, ev.after)
    except PublishError as exc:
        return str(exc)
    return None


def check_record(cat: Category, record: dict[str, Any], where: str = "record") -> None:
    parsed = _PARSED.get(cat.id)
    if parsed is None:
        parsed = _PARSED[cat.id] = parse_schema(cat.record)
    unknown = sorted(set(record) - set(cat.field_names))
    if unknown:
        raise PublishError(f"{where}: {cat.id} has no field {', '.join(unknown)}")
    for f in cat.fields:
        if f.name not in record and not f.optional:
            raise PublishError(f"{where}.{f.name}: required field is missing")
    try:
        validate(record, parsed, raise_errors=True)
    except ValidationError as exc:
        raise PublishError(_describe(exc, record, where)) from exc


def _describe(exc: ValidationError, record: dict[str, Any], where: str) -> str:
    # fastavro reports "<path> is <value> of type <type> expected <schema>"; say it plainly.
    messages = []
    for err in exc.errors:
        field = str(err.field).split(".")[-1] if getattr(err, "field", None) else "?"
        got = record.get(field, err.datum)
        messages.append(f"{where}.{field}: expected {_type_name(err.schema)}, got {quote(got)}")
    return "; ".join(messages) or str(exc)


def _type_name(schema: Any) -> str:
    if isinstance(schema, dict):
        return str(schema.get("logicalType") or schema.get("type"))
    if isinstance(schema, list):
        return " or ".join(_type_name(s) for s in schema)
    return str(schema)
