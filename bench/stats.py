"""The bench's arithmetic, apart from anything that measures (so it can be tested)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def percentiles(values: Sequence[float], points: Iterable[int]) -> dict[int, float]:
    """Nearest-rank percentiles of `values` (0.0 for each point when there are none)."""
    ordered = sorted(values)
    out = {}
    for p in points:
        if not ordered:
            out[p] = 0.0
            continue
        rank = max(1, -(-p * len(ordered) // 100))  # ceil(p/100 * n), at least the first
        out[p] = ordered[min(rank, len(ordered)) - 1]
    return out
