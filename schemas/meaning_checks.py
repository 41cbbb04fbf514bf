"""Checks of a category's record against the vocabulary of `schemas.meanings`.

What the generator trusts is checked here, once, when the catalog loads: each field says
what it means, parameters have their types, and what a parameter names exists (a symbol
of the field's enum, an earlier numeric field, a field to depend on).
"""

from __future__ import annotations

import re
from typing import Any

from schemas.meanings import (
    DESCRIBES,
    FIELD_KEYS,
    MEANINGS,
    PARAMETERS,
    PERIOD_FORMATS,
    PLACEHOLDERS,
    SCALES,
)

NUMBERS = {"int", "long", "float", "double"}
_BRACES = re.compile(r"\{([^{}]*)\}")
_SEQ = re.compile(r"^seq([1-9]|1[0-2])$")


def record_problems(record: dict[str, Any]) -> list[str]:
    """What is wrong with the record's title, history and its fields' meanings, each
    problem prefixed with the field it is about."""
    out = []
    title = record.get("title")
    if not (
        isinstance(title, dict)
        and all(isinstance(title.get(k), str) and title[k].strip() for k in ("en", "zh"))
    ):
        out.append('the record needs a "title": {"en": ..., "zh": ...}')
    years = record.get("history_years", 3)
    if not isinstance(years, int | float) or isinstance(years, bool) or years <= 0:
        out.append("'history_years' must be a positive number")
    if record.get("describes", "enterprise") not in DESCRIBES:
        out.append(f"'describes' must be one of {', '.join(DESCRIBES)}")
    fields = {f.get("name", "?"): f for f in record.get("fields", [])}
    for name, field in fields.items():
        out.extend(f"field '{name}': {p}" for p in field_problems(field, fields))
    return out


def field_problems(field: dict[str, Any], fields: dict[str, dict[str, Any]]) -> list[str]:
    """What is wrong with one field's meaning and parameters; `fields` are the record's,
    by name and in order."""
    meaning = field.get("meaning")
    if meaning not in MEANINGS:
        return [f"needs a meaning, one of: {', '.join(MEANINGS)}"]
    out = []
    for key, value in field.items():
        if key in FIELD_KEYS:
            continue
        want = PARAMETERS.get(key)
        if want is None:
            out.append(f"unknown attribute '{key}'")
        elif not isinstance(value, want) or (isinstance(value, bool) and want is not bool):
            out.append(f"'{key}' has the wrong type ({type(value).__name__})")
        elif key in ("range", "days", "years") and not _bounds(value):
            out.append(f"'{key}' must be [lo, hi] with lo <= hi")
    if out:
        return out
    symbols = enum_symbols(field["type"])
    for key in ("weights", "closed", "expired"):
        wrong = [s for s in field.get(key, ()) if s not in (symbols or ())]
        if wrong:
            out.append(f"'{key}' names {', '.join(map(str, wrong))}, not symbols of its enum")
    if any(not _number(w) or w < 0 for w in field.get("weights", {}).values()):
        out.append("'weights' must be numbers >= 0")
    if meaning == "enterprise-scale" and sorted(symbols or ()) != sorted(SCALES):
        out.append(f"'enterprise-scale' must be an enum of {', '.join(SCALES)}")
    if field.get("format", "month") not in PERIOD_FORMATS:
        out.append(f"'format' must be one of {', '.join(PERIOD_FORMATS)}")
    unknown = sorted({w for t in _templates(field) for w in _BRACES.findall(t) if not _known(w)})
    if unknown:
        out.append(f"unknown placeholders {', '.join('{' + w + '}' for w in unknown)}")
    out.extend(_reference_problems(field, fields))
    return out


def _templates(field: dict[str, Any]) -> list[str]:
    """The pattern and the strings among the choices: what the generator fills in."""
    choices = field.get("choices", [])
    if isinstance(choices, dict):
        choices = [v for vs in choices.values() if isinstance(vs, list) for v in vs]
    values = choices if isinstance(choices, list) else []
    return [t for t in [field.get("pattern"), *values] if isinstance(t, str)]


def _known(word: str) -> bool:
    return (word in PLACEHOLDERS and word != "seq") or bool(_SEQ.match(word))


def _reference_problems(field: dict[str, Any], fields: dict[str, dict[str, Any]]) -> list[str]:
    """Parameters that name other fields: they must exist and be of the right kind."""
    out = []
    names = list(fields)
    own = str(field.get("name"))
    part_of = field.get("part_of")
    if part_of is not None:
        if part_of not in names or names.index(part_of) >= names.index(own):
            out.append(f"'part_of' must name an earlier field, not '{part_of}'")
        elif not is_numeric(fields[part_of]["type"]):
            out.append(f"'part_of' must name a numeric field, '{part_of}' is not")
    share = field.get("share")
    if isinstance(share, str) and fields.get(share, {}).get("meaning") != "percent":
        out.append(f"'share' must name a percent field of the record, not '{share}'")
    if isinstance(share, list) and (not _bounds(share) or share[0] < 0 or share[1] > 1):
        out.append("'share' must be [lo, hi] with 0 <= lo <= hi <= 1")
    for key in ("per", "by"):
        other = field.get(key)
        if other is not None and (other == own or other not in fields):
            out.append(f"'{key}' must name another field of the record, not '{other}'")
    if "per" in field and field["per"] in fields and not is_numeric(fields[field["per"]]["type"]):
        out.append(f"'per' must name a numeric field, '{field['per']}' is not")
    for name in field.get("sum_of", []):
        bare = str(name).removeprefix("-")
        if bare == own or bare not in fields or not is_numeric(fields[bare]["type"]):
            out.append(f"'sum_of' must name other numeric fields, not '{name}'")
    for other, wanted in field.get("when", {}).items():
        out.extend(_when_problems(own, other, wanted, fields))
    choices = field.get("choices")
    if isinstance(choices, dict) != ("by" in field):
        out.append("'choices' is a list, or with 'by' an object of lists")
    elif isinstance(choices, dict):
        bad = [k for k, v in choices.items() if not isinstance(v, list) or not v]
        symbols = enum_symbols(fields.get(field["by"], {}).get("type"))
        bad += [k for k in choices if symbols and k != "*" and k not in symbols]
        if bad:
            out.append(f"'choices' keys {', '.join(bad)}: symbols of '{field['by']}' with lists")
    elif choices is not None and not choices:
        out.append("'choices' must not be empty")
    for key in ("present", "share"):
        value = field.get(key, 0)
        if _number(value) and not 0 <= value <= 1:
            out.append(f"'{key}' must be between 0 and 1")
    if any(_number(field.get(k)) and field[k] <= 0 for k in ("typical", "spread", "round")):
        out.append("'typical', 'spread' and 'round' must be positive")
    return out


def _when_problems(
    own: str, other: str, wanted: Any, fields: dict[str, dict[str, Any]]
) -> list[str]:
    if other == own or other not in fields:
        return [f"'when' must name another field of the record, not '{other}'"]
    if isinstance(wanted, bool):
        return []
    symbols = enum_symbols(fields[other]["type"])
    if not isinstance(wanted, list) or not symbols or not set(wanted) <= set(symbols):
        return [f"'when' on '{other}' needs true, false or symbols of its enum"]
    return []


def enum_symbols(avro_type: Any) -> list[str] | None:
    """The symbols of an enum type (or of a nullable one), None for other types."""
    branches = avro_type if isinstance(avro_type, list) else [avro_type]
    for branch in branches:
        if isinstance(branch, dict) and branch.get("type") == "enum":
            return list(branch.get("symbols", []))
    return None


def is_numeric(avro_type: Any) -> bool:
    """An int, long, float, double or decimal, nullable or not."""
    branches = avro_type if isinstance(avro_type, list) else [avro_type]
    for branch in branches:
        if isinstance(branch, str) and branch in NUMBERS:
            return True
        if isinstance(branch, dict) and (
            branch.get("logicalType") == "decimal"
            or (branch.get("type") in NUMBERS and "logicalType" not in branch)
        ):
            return True
    return False


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bounds(value: Any) -> bool:
    numbers = all(_number(v) for v in value)
    return len(value) == 2 and numbers and value[0] <= value[1]
