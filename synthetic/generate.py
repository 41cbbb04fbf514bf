"""Synthetic enterprises and records, realistic enough to demo and benchmark the bus.

`population()` makes Shanghai enterprises (`synthetic.profile`); `records()` makes records
of any category for them, each field from what its `.avsc` says it means
(`schemas.meanings`), its parameters and the enterprise's profile: no module of this
package knows a category. Pure Python (stdlib `random`), and a function of the seed only.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

from schemas.catalog import Category
from synthetic.draft import Draft
from synthetic.plan import plan_of
from synthetic.profile import REFERENCE, Enterprise, population
from synthetic.values import make

__all__ = ["REFERENCE", "Enterprise", "population", "records"]


def records(
    category: Category, enterprises: Sequence[Enterprise], count: int, seed: int = 7
) -> Iterator[dict[str, Any]]:
    """`count` records of `category`, ready for fastavro, about enterprises of the population.

    Enterprises are taken in a shuffled order, so the first `len(enterprises)` records are
    about distinct enterprises (registrations for a whole population, say).
    """
    if count > 0 and not enterprises:
        raise ValueError("records need at least one enterprise")
    plan = plan_of(category)
    rng = random.Random(f"records:{seed}:{category.id}")
    order: list[int] = []
    for _ in range(count):
        if not order:
            order = list(range(len(enterprises)))
            rng.shuffle(order)
        ent = enterprises[order.pop()]
        own = rng
        if plan.describes_enterprise:  # about the enterprise itself: the same each time
            own = random.Random(f"records:{seed}:{category.id}:{ent.uscc}")
        yield _record(category, ent, own)


def _record(category: Category, ent: Enterprise, rng: random.Random) -> dict[str, Any]:
    draft = Draft(plan_of(category), ent, rng, make)
    return {name: draft.value(name) for name in draft.plan.specs}
