"""Generators of the meanings that are numbers: money, areas, people, counts, percents,
scores.

Amounts follow the enterprise's size: `typical` is a micro firm's, larger classes scale
it by their factor (and the firm's heft within its class) to the power `scaling`. A part
(`part_of`) is a share of its whole, a total (`sum_of`) adds its parts, an amount `per`
unit multiplies a count of the record. Money is never below one fen.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from synthetic.draft import Draft
from synthetic.plan import Spec
from synthetic.profile import FACTOR

CENT = Decimal("0.01")


def size(draft: Draft, spec: Spec, default: float = 1.0) -> float:
    """How much larger than a micro firm's this enterprise's value is."""
    exponent = float(spec.get("scaling", default))
    return float((FACTOR[draft.ent.scale] * draft.ent.heft) ** exponent)


def spread(draft: Draft, spec: Spec) -> float:
    """A factor from 1/spread to spread, log-uniform: most values near the typical one."""
    width = math.log(float(spec.get("spread", 4)))
    return math.exp(draft.rng.uniform(-width, width))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return float(value)


def share_of(draft: Draft, spec: Spec) -> float | None:
    """The field's share of its `part_of` (None when the whole is empty)."""
    whole = _number(draft.value(spec.params["part_of"]))
    share = spec.get("share", [0.0, 1.0])
    if isinstance(share, str):  # a percent field of the record
        fraction = (_number(draft.value(share)) or 0.0) / 100
    elif isinstance(share, list):
        fraction = draft.rng.uniform(float(share[0]), float(share[1]))
    else:
        fraction = float(share)
    return None if whole is None else whole * fraction


def total(draft: Draft, spec: Spec) -> float:
    """The sum of the `sum_of` fields, those named with `-` taken away; never below 0."""
    out = 0.0
    for name in spec.params["sum_of"]:
        bare = name.removeprefix("-")
        value = _number(draft.value(bare)) or 0.0
        out += -value if name.startswith("-") else value
    return max(0.0, out)


def _amount(draft: Draft, spec: Spec, typical: float) -> Decimal | None:
    if "sum_of" in spec.params:
        return Decimal(str(round(total(draft, spec), 2)))
    if "part_of" in spec.params:
        part = share_of(draft, spec)
        return None if part is None else max(CENT, Decimal(str(round(part, 2))))
    base = float(spec.get("typical", typical)) * spread(draft, spec)
    if "per" in spec.params:
        value = base * (_number(draft.value(spec.params["per"])) or 1.0)
    else:
        value = base * size(draft, spec)
    step = spec.get("round")
    if step:
        value = max(1, round(value / float(step))) * float(step)
    return max(CENT, Decimal(str(round(value, 2))))


def _headcount(draft: Draft, spec: Spec) -> int | None:
    if "part_of" in spec.params or "sum_of" in spec.params:
        return _count(draft, spec)
    people = draft.headcount() * _fraction(draft, spec)
    lo, hi = spec.get("range", (1, 10**6))
    return int(min(max(round(people), lo), hi))


def _fraction(draft: Draft, spec: Spec) -> float:
    share = spec.get("share")
    return draft.rng.uniform(float(share[0]), float(share[1])) if isinstance(share, list) else 1.0


def _count(draft: Draft, spec: Spec) -> int | None:
    if "sum_of" in spec.params:
        return round(total(draft, spec))
    if "part_of" in spec.params:
        part = share_of(draft, spec)
        return None if part is None else round(part)
    lo, hi = spec.get("range", (0, 20))
    value = draft.rng.uniform(float(lo), float(hi))
    if spec.get("scaled"):
        value *= size(draft, spec)
    return round(value)


def _in_range(draft: Draft, spec: Spec, default: tuple[float, float]) -> float | int:
    lo, hi = spec.get("range", default)
    if isinstance(lo, int) and isinstance(hi, int):
        return draft.rng.randint(lo, hi)
    return round(draft.rng.uniform(float(lo), float(hi)), 2)


def _score(draft: Draft, spec: Spec) -> float | int:
    """In a record with a rating, the score lies in the rating's slice of the range: the
    best rating (listed first) gets the top slice."""
    lo, hi = (float(v) for v in spec.get("range", (0, 100)))
    rating = draft.plan.first.get("rating")
    symbols = draft.plan.specs[rating].symbols if rating else []
    value = draft.value(rating) if rating else None
    if value in symbols:
        width = (hi - lo) / len(symbols)
        top = hi - symbols.index(value) * width
        lo, hi = top - width, top
    integral = isinstance(spec.get("range", (0, 100))[0], int)
    return round(draft.rng.uniform(lo, hi)) if integral else round(draft.rng.uniform(lo, hi), 2)


GENERATORS: dict[str, Callable[[Draft, Spec], Any]] = {
    "money": lambda d, s: _amount(d, s, 10_000),
    "area": lambda d, s: _amount(d, s, 500),
    "headcount": _headcount,
    "count": _count,
    "percent": lambda d, s: _in_range(d, s, (0, 100)),
    "score": _score,
}
