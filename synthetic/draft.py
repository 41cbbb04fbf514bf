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

        def word(m: re.Match[str]) -> str:
            name, digits = m.groups()
            if name == "seq" and digits:
                return f"{draw.randrange(1, 10 ** int(digits)):0{digits}d}"
            make = _WORDS.get(name + digits)
            return make(self.ent, draw, when) if make else m.group(0)

        return _PLACEHOLDER.sub(word, template)


def _industry(ent: Enterprise, text: Callable[[zh.Industry], str], default: str) -> str:
    return text(ent.industry) if ent.industry else default


# What each placeholder of a pattern stands for (`{seqN}` apart).
_WORDS: dict[str, Callable[[Enterprise, random.Random, dt.date], str]] = {
    "year": lambda ent, rng, day: str(day.year),
    "month": lambda ent, rng, day: f"{day.month:02d}",
    "day": lambda ent, rng, day: f"{day.day:02d}",
    "district": lambda ent, rng, day: ent.place.abbr,
    "district_name": lambda ent, rng, day: ent.place.name,
    "dcode": lambda ent, rng, day: ent.place.code,
    "road": lambda ent, rng, day: rng.choice(ent.place.roads),
    "court": lambda ent, rng, day: "沪01" + ent.place.code[4:],
    "A": lambda ent, rng, day: rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ"),
    "trade": lambda ent, rng, day: ent.trade,
    "uscc": lambda ent, rng, day: ent.uscc,
    "industry_code": lambda ent, rng, day: ent.industry_code,
    "industry": lambda ent, rng, day: _industry(ent, lambda i: i.description, "其他"),
    "scope": lambda ent, rng, day: _industry(ent, lambda i: i.scope, "一般项目：技术服务"),
}
