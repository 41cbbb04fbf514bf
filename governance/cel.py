"""Row filters of grants, in CEL: compiled once per expression, evaluated per event.

A filter sees three variables:

- `record`: the event's record (`after`, or `before` for a delete), field name to value;
- `op`: `c`, `u`, `d` or `r`;
- `enterprise`: the enterprise's profile, the `PROFILE_FIELDS` of its `market.registration`
  record (`enterprise.scale in ['MICRO', 'SMALL']`).

Values are made CEL-friendly first: decimals become doubles (write `10000.0`; this CEL
also compares an int with a double), dates ISO strings (`record.listed_on >= '2026-01-01'`
compares as text, which orders ISO dates correctly), instants stay instants (CEL
timestamps; a naive one is taken as UTC), enum symbols are strings already.

How a filter can fail, and what the decision makes of it:

- it does not compile: `compile_filter` raises FilterError with the line, the column and
  the reason; validation reports it, so such an agreement is never applied;
- it reads `enterprise` while the profile is unknown (None or empty: the registration has
  not reached the workers yet, or the enterprise is registered elsewhere): `evaluate` raises
  ProfileUnknownError, and the decision denies with reason `filtered`, detail
  `enterprise profile unknown`. Not `error`: this is a normal state of the data, not a
  fault of the filter, and a condition on the enterprise that cannot be shown to hold
  does not hold. The check is static (`Program.variables()`), so it does not depend on
  which branch of the expression would have run;
- anything else (a field the record lacks, arithmetic on a null, a type mismatch, a
  result that is not a bool): `evaluate` raises FilterError, and the decision denies with
  reason `error`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any

import cel
from cel import Program

from governance.errors import FilterError, ProfileUnknownError

VARIABLES = ("record", "op", "enterprise")
PROFILE_FIELDS = ("scale", "district", "industry_code", "status", "established_on")
PROFILE_UNKNOWN = "enterprise profile unknown"

_POSITION = re.compile(r"<input>:(\d+):(\d+): (.+)")
_MACRO_BINDING = re.compile(r"\.\s*(?:all|exists_one|exists|map|filter)\(\s*(\w+)\s*,")
_PLAIN = (str, bool, int, float, bytes, datetime, type(None))


@lru_cache(maxsize=4096)
def compile_filter(expr: str) -> Program:
    """The compiled program of `expr`, compiled once per process and expression."""
    try:
        return cel.compile(expr)
    except ValueError as exc:
        raise FilterError(_syntax_error(str(exc))) from exc


@lru_cache(maxsize=4096)
def _reads(program: Program) -> frozenset[str]:
    return frozenset(program.variables())


def unknown_variables(program: Program) -> list[str]:
    """Variables the expression reads that a filter never sees, such as a misspelt
    `recrod`; names bound by macros (`x` in `list.exists(x, ...)`) are not counted."""
    bound = set(_MACRO_BINDING.findall(program.source))
    return [v for v in program.variables() if v not in VARIABLES and v not in bound]


def evaluate(
    program: Program, record: Mapping[str, Any] | None, op: str, enterprise: Mapping[str, Any]
) -> bool:
    """Whether the row passes the filter. Raises ProfileUnknownError or FilterError."""
    reads = _reads(program)
    if not enterprise and "enterprise" in reads:
        raise ProfileUnknownError(PROFILE_UNKNOWN)
    # Only what the expression reads: handing CEL a whole record costs more than most
    # filters take to run.
    context: dict[str, Any] = {}
    if "record" in reads:
        context["record"] = None if record is None else _cel_map(record)
    if "op" in reads:
        context["op"] = op
    if "enterprise" in reads:
        context["enterprise"] = _cel_map(enterprise)
    try:
        result = program.execute(context)
    except Exception as exc:
        raise FilterError(describe(exc)) from exc
    if not isinstance(result, bool):
        raise FilterError(f"the filter gave {type(result).__name__} {result!r}, not a bool")
    return result


def profile_from_registration(registration: Mapping[str, Any]) -> dict[str, Any]:
    """The profile filters see as `enterprise`, from a `market.registration` record.

    Only these fields, so that no filter reads the legal representative's personal data.
    """
    return {name: registration.get(name) for name in PROFILE_FIELDS}


def describe(exc: BaseException) -> str:
    """One line for people, from an exception of the CEL runtime."""
    if isinstance(exc, KeyError):
        return f"no field {exc.args[0]!r}" if exc.args else "no such field"
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _syntax_error(message: str) -> str:
    found = _POSITION.search(message)
    if found is None:
        return describe(ValueError(message))
    line, column, reason = found.groups()
    return f"line {line}, column {column}: {reason.strip()}"


def _cel_map(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _cel_value(value) for name, value in values.items()}


def _cel_value(value: Any) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return _cel_map(value)
    if isinstance(value, list | tuple):
        return [_cel_value(v) for v in value]
    return str(value)
