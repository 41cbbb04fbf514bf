"""A record being made: the enterprise, the date of the event it reports, whether it
reports trouble, and the values made so far.

Fields are made in schema order, but a field that depends on another (a part on its
whole, a follow-up date on the status, a status on the term's end) asks for it and gets
it made first, so values agree within the record whatever the order of the schema.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from typing import Any

from synthetic import names_zh as zh
from synthetic.plan import Plan, Spec
from synthetic.profile import REFERENCE, Enterprise

ADVERSE_SHARE = 0.08  # records that report trouble: arrears, unpaid contributions
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+?)(\d*)\}")


class Draft:
    def __init__(
        self,
        plan: Plan,
        ent: Enterprise,
        rng: random.Random,
        make: Callable[[Draft, Spec], Any],
    ) -> None:
        self.plan = plan
        self._make = make  # a field's value from its meaning (synthetic.values)
        self.ent = ent
        self.rng = rng
        if plan.describes_enterprise:
            start = ent.established_on
        else:
            back = dt.timedelta(days=int(plan.history_years * 365.25))
            start = max(ent.established_on, REFERENCE - back)
        self.event = start + dt.timedelta(days=rng.randint(0, (REFERENCE - start).days))
        self.adverse = rng.random() < ADVERSE_SHARE
        self.values: dict[str, Any] = {}
        self._making: set[str] = set()
        self._headcount: int | None = None

    def value(self, name: str) -> Any:
        """The value of field `name` of this record, made now if it is not yet."""
        if name in self.values:
            return self.values[name]
        spec = self.plan.specs.get(name)
        if spec is None or name in self._making:
            return None  # no such field, or a loop of fields asking for each other
        self._making.add(name)
        made = self.values[name] = self._make(self, spec)
        self._making.discard(name)
        return made

    def first(self, meaning: str) -> Any:
        """The value of the record's first field of `meaning`, None without one."""
        name = self.plan.first.get(meaning)
        return None if name is None else self.value(name)

    def has(self, meaning: str) -> bool:
        return meaning in self.plan.first

    @property
    def district(self) -> zh.District:
        return self.ent.place

    def headcount(self) -> int:
        """The enterprise's staff at the time of this record, the same for all its fields."""
        if self._headcount is None:
            drift = self.rng.uniform(0.9, 1.1)
            self._headcount = max(1, round(self.ent.headcount * drift))
        return self._headcount

    def days_after(self, spec: Spec, default: tuple[int, int], day: dt.date) -> dt.date:
        lo, hi = spec.get("days", default)
        return day + dt.timedelta(days=self.rng.randint(int(lo), int(hi)))

    def fill(
        self, template: str, rng: random.Random | None = None, day: dt.date | None = None
    ) -> str:
        """A `pattern` (or a string of `choices`) with its placeholders filled in, from
        the record's draws and event date unless others are given."""
        draw, when = rng or self.rng, day or self.event
        return _PLACEHOLDER.sub(lambda m: self._word(m.group(1), m.group(2), draw, when), template)

    def _word(self, word: str, digits: str, rng: random.Random, day: dt.date) -> str:
        ent, place = self.ent, self.district
        if word == "seq" and digits:
            return f"{rng.randrange(1, 10 ** int(digits)):0{digits}d}"
        industry = ent.industry
        words = {
            "year": lambda: str(day.year),
            "month": lambda: f"{day.month:02d}",
            "day": lambda: f"{day.day:02d}",
            "district": lambda: place.abbr,
            "district_name": lambda: place.name,
            "dcode": lambda: place.code,
            "road": lambda: rng.choice(place.roads),
            "court": lambda: "沪01" + place.code[4:],
            "A": lambda: rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ"),
            "trade": lambda: ent.trade,
            "uscc": lambda: ent.uscc,
            "industry_code": lambda: ent.industry_code,
            "industry": lambda: industry.description if industry else "其他",
            "scope": lambda: industry.scope if industry else "一般项目：技术服务、技术开发",
        }
        make = words.get(word + digits) or words.get(word)
        return make() if make else "{" + word + digits + "}"
