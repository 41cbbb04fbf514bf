"""Generators of the meanings that pick a symbol: statuses, ratings, categories, flags.

Weights come from the field (`weights`); a status follows the term's end (`expired`)
and the record's trouble (`adverse`: a symbol naming the trouble, else a matter still
open); a rating in a record that reports trouble is one of the worse half; a `scaled`
category follows the size class. Symbols are data: words in them (OVERDUE, NOT_...) may
guide a choice, names of categories never do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from synthetic.draft import Draft
from synthetic.plan import Spec
from synthetic.profile import REFERENCE

# Where a status says no `closed` of its own: the words after which a matter is over.
CLOSED = {
    "REMOVED", "PAID", "CLOSED", "REFERRED_TO_POLICE", "CONCLUDED", "DISMISSED", "CANCELLED",
    "REVOKED", "AWARDED", "PARTIALLY_AWARDED", "SETTLED", "WITHDRAWN", "DISCHARGED",
    "EXPIRED", "TERMINATED", "COMPLETED", "RESOLVED", "WRITTEN_OFF", "REJECTED", "REPAID",
    "RECTIFIED", "FINISHED", "LIFTED",
}  # fmt: skip
# Where a status says no `expired` of its own: the symbol a term that has run out takes.
LAPSED = ("EXPIRED",)
# Words of a status's symbols that say the matter went wrong (OVERDUE, NOT_RECTIFIED,
# CASE_FILED...): what a record that reports trouble takes, where its status has them.
TROUBLE = {
    "OVERDUE", "DEFAULT", "DEFAULTED", "FAIL", "FAILED", "BREACH", "BREACHED", "NOT",
    "UNPAID", "UNFILED", "UNQUALIFIED", "NON", "REVOKED", "ENFORCEMENT", "ENFORCED",
    "OUTSTANDING", "ARREARS", "VIOLATION", "LISTED", "REFERRED", "PENALISED", "PENALIZED",
    "SUSPENDED", "DESIGNATED", "IRREGULAR", "ABNORMAL", "LATE", "CASE",
}  # fmt: skip
# Where a scaled category's symbols run from small to large: where each size class sits.
SIZE_POSITION = {"MICRO": 0.0, "SMALL": 0.2, "MEDIUM": 0.4, "LARGE": 0.8}


def closed_symbols(spec: Spec) -> set[str]:
    return set(spec.get("closed", CLOSED))


def weighted(draft: Draft, weights: dict[str, float], symbols: Sequence[str]) -> str | None:
    """One of `symbols` by `weights` (1 each without one)."""
    chances = [float(weights.get(s, 1)) for s in symbols]
    if not symbols or sum(chances) <= 0:
        return symbols[0] if symbols else None
    return draft.rng.choices(list(symbols), weights=chances)[0]


def _status(draft: Draft, spec: Spec) -> str | None:
    symbols = spec.symbols
    if not symbols:
        return None
    # Without weights, the first symbol is usually the normal case (ACTIVE, VALID...).
    weights = spec.get("weights") or {symbols[0]: max(1, 2 * (len(symbols) - 1))}
    expired = [s for s in spec.get("expired", LAPSED) if s in symbols]
    if expired and _lapsed(draft):
        return weighted(draft, weights, expired)
    live = [s for s in symbols if s not in expired]
    if spec.get("adverse") and draft.adverse:
        # A symbol that names the trouble, else one that leaves the matter open.
        closed = closed_symbols(spec)
        bad = [s for s in live if _trouble(s)]
        if bad:  # a weight of 0 keeps a trouble symbol out of the other records only
            return weighted(draft, {s: weights.get(s) or 1 for s in bad}, bad)
        live = [s for s in live if s not in closed] or live
    return weighted(draft, weights, live)


def _trouble(symbol: str) -> bool:
    words = symbol.split("_")
    return bool(TROUBLE.intersection(words)) and "DUE" not in words  # NOT_DUE is no trouble


def _lapsed(draft: Draft) -> bool:
    end = draft.first("end-date")
    if isinstance(end, dt.datetime):
        end = end.date()
    return isinstance(end, dt.date) and end < REFERENCE


def _rating(draft: Draft, spec: Spec) -> str | None:
    symbols = spec.symbols
    if spec.get("adverse") and draft.adverse:
        symbols = symbols[len(symbols) // 2 :]  # listed best first: the worse half
    return weighted(draft, spec.get("weights", {}), symbols)


def _category(draft: Draft, spec: Spec) -> str | None:
    symbols = spec.symbols
    if not symbols or not spec.get("scaled"):
        return weighted(draft, spec.get("weights", {}), symbols)
    at = round(SIZE_POSITION[draft.ent.scale] * (len(symbols) - 1))
    return symbols[min(at + draft.rng.choice((0, 0, 1)), len(symbols) - 1)]


def _flag(draft: Draft, spec: Spec) -> bool:
    if spec.get("adverse"):
        return draft.adverse
    return draft.rng.random() < float(spec.get("share", 0.5))


GENERATORS: dict[str, Callable[[Draft, Spec], Any]] = {
    "status": _status,
    "rating": _rating,
    "category": _category,
    "flag": _flag,
}
