"""What a field means: the vocabulary a category's `.avsc` uses to say it, and its checks.

Every field of a category carries `"meaning": "<name>"` and, where the meaning takes them,
parameters as further attributes of the field (Avro keeps attributes it does not know).
The synthetic-data generator makes a value from the meaning, its parameters and the
enterprise's profile, so a new category is a new file, never new code. A record may carry
`"title": {"en": ..., "zh": ...}` (required), `"history_years"` (how far back its events
go, default 3) and `"describes": "enterprise"` (a record about the enterprise itself,
such as its registration, the same every time it is generated).

Parameters, where a meaning takes them:

- `pattern` (doc-no, name): a template. `{year}` the event's year, `{district}` the
  district's one-character abbreviation (浦, 长...), `{dcode}` its six-digit code, `{court}`
  the court's case prefix (沪0115), `{seqN}` (N = 2..10) a zero-padded serial of N digits,
  `{A}` a capital letter, `{trade}` the enterprise's trade name.
- `typical` (money, area): the usual value for a micro enterprise; larger size classes
  scale it up. `spread` (default 4): how many times smaller or larger it may be.
- `part_of` + `share` (money, headcount, area, count): a fraction `share` = [lo, hi] of
  another field of the same record, which comes earlier in the schema.
- `range` (count, percent, score): [lo, hi], inclusive. `scaled` (count): grows with size.
- `weights` (status, rating, category): {symbol: weight}; symbols without one weigh 1.
- `closed` (status): the symbols after which the matter is over; `follow-up-date` fields
  have a value only then. Default: the usual closed words (PAID, CLOSED, REMOVED...).
- `adverse` (flag, status, rating, money): true when the value means trouble; records
  that report trouble (about 8%) take it.
- `share` (flag): how often it is true (default 0.5).
- `choices` (choice, text, name): realistic values to pick from.
- `days` (follow-up-date, later-date, start-date): [lo, hi] days after the event date.
- `years` (end-date): [lo, hi] years after the start (or the event date).
- `format` (period): `month` (2025-03, the default), `quarter` (2025Q1), `year` (2025),
  `half` (2025H1).
- `offset` (year, period): periods before the event (an annual report of last year: -1).
"""

from __future__ import annotations

from typing import Any

# name -> what it means (the catalog shows this to people)
MEANINGS: dict[str, str] = {
    # The enterprise the record is about, as the register knows it.
    "uscc": "the enterprise's unified social credit code (the record key)",
    "enterprise-name": "the enterprise's registered name",
    "legal-representative": "the name of the enterprise's legal representative",
    "legal-representative-id": "the resident ID number of the enterprise's legal representative",
    "district": "the district the enterprise is registered in",
    "industry-code": "the enterprise's industry code (GB/T 4754)",
    "established-on": "the date the enterprise was established",
    "enterprise-scale": "the enterprise's size class (an enum MICRO, SMALL, MEDIUM, LARGE)",
    "enterprise-status": "the enterprise's status in the register",
    # Other people and organisations.
    "person-name": "the name of a person other than the legal representative",
    "id-number": "the resident ID number of a person (18 characters, valid check digit)",
    "company": "the name of another enterprise (a counterparty)",
    "bank": "the name of a bank or bank branch (a mortgagee, a pledgee, a lender)",
    "authority": "the agency's office responsible for the enterprise's district",
    # Places and identifiers.
    "address": "a street address in the enterprise's district",
    "doc-no": "a number of a document, case, certificate, permit, contract or registration",
    # Time.
    "event-date": "the date (or instant) of the event the record reports",
    "start-date": "the start of a term, on or after the event date",
    "end-date": "the end of a term or of a validity, after its start",
    "later-date": "a date some days after the event (a deadline, a publicity end)",
    "follow-up-date": "the date a matter was closed; empty while it is open",
    "year": "the year the record is about",
    "period": "the period the record is about (a month, quarter, half or year)",
    # Quantities.
    "money": "an amount in yuan, in proportion to the enterprise's size",
    "headcount": "a number of people, in proportion to the enterprise's size",
    "count": "a number of things",
    "percent": "a percentage or a rate",
    "area": "an area in square metres",
    "score": "a numeric score",
    # Categories and text.
    "status": "where the matter stands",
    "rating": "a grade, symbols listed best first",
    "category": "a kind, type, role or cause",
    "flag": "a yes/no fact",
    "choice": "one of a list of values",
    "name": "the name of a thing (a project, a product, a mark)",
    "text": "free text",
}

# parameter -> the JSON type it must have
PARAMETERS: dict[str, type | tuple[type, ...]] = {
    "pattern": str,
    "typical": (int, float),
    "spread": (int, float),
    "part_of": str,
    "share": (list, int, float),
    "range": list,
    "scaled": bool,
    "weights": dict,
    "closed": list,
    "adverse": bool,
    "choices": list,
    "days": list,
    "years": list,
    "format": str,
    "offset": int,
}
PERIOD_FORMATS = ("month", "quarter", "half", "year")
# Attributes of a field that are Avro's or the catalog's own, not a meaning's parameters.
FIELD_KEYS = {"name", "type", "doc", "default", "order", "aliases", "sensitivity", "meaning"}


def problems(field: dict[str, Any], names: list[str]) -> list[str]:
    """What is wrong with a field's meaning and parameters; `names` are the record's
    fields in order (a `part_of` must name an earlier one)."""
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
    part_of = field.get("part_of")
    own = str(field.get("name"))
    if part_of is not None and (part_of not in names or names.index(part_of) >= names.index(own)):
        out.append(f"'part_of' must name an earlier field, not '{part_of}'")
    if field.get("format", "month") not in PERIOD_FORMATS:
        out.append(f"'format' must be one of {', '.join(PERIOD_FORMATS)}")
    return out


def _bounds(value: Any) -> bool:
    numbers = all(isinstance(v, int | float) for v in value)
    return len(value) == 2 and numbers and value[0] <= value[1]
