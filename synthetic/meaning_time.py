"""Generators of the meanings that are times: the event date and the dates around it,
the year and the period a record is about.

Every date follows the record's event date, which lies between the enterprise's
establishment (or `history_years` back) and the reference date. What has happened (an
event, a matter closed) is never after the reference date; what is planned or runs on
(a term's end, a deadline) may be.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from synthetic.draft import Draft
from synthetic.meaning_enums import closed_symbols
from synthetic.plan import Spec
from synthetic.profile import REFERENCE

FOLLOW_UP_SHARE = 0.4  # matters closed, where no status says which


def years_later(day: dt.date, years: int) -> dt.date:
    """The last day of a term of `years` years starting on `day`."""
    try:
        end = day.replace(year=day.year + years)
    except ValueError:  # 29 February
        end = day.replace(year=day.year + years, day=28)
    return end - dt.timedelta(days=1)


def _earlier(draft: Draft, spec: Spec) -> dt.date:
    lo, hi = spec.get("days", (30, 400))
    back = draft.event - dt.timedelta(days=draft.rng.randint(int(lo), int(hi)))
    return max(draft.ent.established_on, back)


def _end(draft: Draft, spec: Spec) -> dt.date:
    start = _as_date(draft.first("start-date"))
    if start is None:
        start = draft.ent.established_on if draft.plan.describes_enterprise else draft.event
    lo, hi = spec.get("years", (1, 3))
    return max(start, years_later(start, draft.rng.randint(int(lo), int(hi))))


def _follow_up(draft: Draft, spec: Spec) -> dt.date | None:
    status = draft.plan.first.get("status")
    if status is not None:
        closed = draft.value(status) in closed_symbols(draft.plan.specs[status])
    else:
        closed = draft.rng.random() < float(spec.get("present", FOLLOW_UP_SHARE))
    if not closed and spec.nullable:
        return None
    day = draft.days_after(spec, (20, 400), draft.event)
    if day <= REFERENCE:
        return day
    if status is None and spec.nullable:
        return None  # it has not happened yet
    # Closed already, by the status: some day between the event and the reference date.
    return draft.event + dt.timedelta(days=draft.rng.randint(0, (REFERENCE - draft.event).days))


def _year(draft: Draft, spec: Spec) -> int:
    year = draft.event.year + int(spec.get("offset", 0))
    return max(draft.ent.established_on.year, min(year, REFERENCE.year))


def period(day: dt.date, form: str, offset: int) -> str:
    """The period of `day` in `form`, `offset` periods later (earlier when negative)."""
    if form == "year":
        return str(day.year + offset)
    per_year = {"month": 12, "quarter": 4, "half": 2}[form]
    index = day.year * per_year + (day.month - 1) * per_year // 12 + offset
    year, part = divmod(index, per_year)
    mark = {"month": f"-{part + 1:02d}", "quarter": f"Q{part + 1}", "half": f"H{part + 1}"}
    return f"{year}{mark[form]}"


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


GENERATORS: dict[str, Callable[[Draft, Spec], Any]] = {
    "event-date": lambda d, s: d.event,
    "earlier-date": _earlier,
    "start-date": lambda d, s: d.days_after(s, (0, 0), d.event),
    "end-date": _end,
    "later-date": lambda d, s: d.days_after(s, (30, 365), d.event),
    "follow-up-date": _follow_up,
    "year": _year,
    "period": lambda d, s: period(d.event, s.get("format", "month"), int(s.get("offset", 0))),
}
