"""What a field means: the vocabulary a category's `.avsc` uses to say it.

Every field of a category carries `"meaning": "<name>"` and, where the meaning takes them,
parameters as further attributes of the field (Avro keeps attributes it does not know).
The synthetic-data generator makes a value from the meaning, its parameters and the
enterprise's profile, so a new category is a new file, never new code. A record carries
`"title": {"en": ..., "zh": ...}` (required), `"history_years"` (how far back its events
go, default 3) and `"describes": "enterprise"` (a record about the enterprise itself,
such as its registration, the same every time it is generated). `schemas.meaning_checks`
checks a record against this vocabulary.

Parameters, where a meaning takes them:

- `pattern` (doc-no, name, authority): a template. `{year}` the event's year, `{month}`
  and `{day}` its month and day (two digits), `{district}` the district's one-character
  abbreviation (浦, 长...), `{district_name}` its name (浦东新区), `{dcode}` its six-digit
  code, `{road}` one of its roads, `{court}` the court's case prefix (沪0115), `{seqN}`
  (N = 1..12) a zero-padded serial of N digits, `{A}` a capital letter, `{trade}` the
  enterprise's trade name, `{uscc}` its code, `{industry_code}`, `{industry}` and
  `{scope}` its industry's code, name and usual business scope.
- `typical` (money, area): the usual value for a micro enterprise; larger size classes
  scale it up. `spread` (default 4): how many times smaller or larger it may be.
  `scaling` (money, area, count; default 1 for money and area): how strongly the value
  grows with the size class, from 0 (a fine: not at all) to 1 (in proportion).
  `round` (money): to a multiple of this many yuan (fines and capital are round sums).
- `per` (money, area): the name of a count, headcount or area field of the record; the
  value is `typical` per unit of it (contributions per insured employee).
- `part_of` + `share` (money, headcount, area, count): a fraction `share` = [lo, hi]
  (0 <= lo <= hi <= 1) of another field of the same record, which comes earlier in the
  schema. `share` may instead name a `percent` field of the record: that percentage.
- `sum_of` (money, count): the total of other numeric fields of the record; a name
  starting with `-` is taken away (what was paid: the amounts due less the arrears).
- `range` (count, percent, score, headcount): [lo, hi], inclusive. `scaled` (count):
  grows with size; (category): the symbols go from small to large and the enterprise's
  size class picks where (revenue bands).
- `weights` (status, rating, category): {symbol: weight}; symbols without one weigh 1.
- `closed` (status): the symbols after which the matter is over; `follow-up-date` fields
  have a value only then. Default: the usual closed words (PAID, CLOSED, REMOVED...).
- `expired` (status): the symbols the status takes once the record's `end-date` has
  passed, and only then (DISCHARGED). Default: EXPIRED, where the enum has it.
- `adverse` (flag, status, rating, money): true when the value means trouble; records
  that report trouble (about 8%) take it: a flag is true, a rating one of the worse half,
  a status one that names the trouble (OVERDUE, DEFAULTED, NOT_RECTIFIED, UNPAID...) or
  else one still open, and a money field that may be empty has a value only in those
  records (a late fee).
- `share` (flag): how often it is true (default 0.5).
- `present` (any field that may be empty): how often it has a value (default 0.9, or 1
  with `when`; a `follow-up-date` without a status: how often the matter closed, 0.4).
- `when` (any field that may be empty, flag): {field: [symbols]}: a value only while
  that enum field holds one of them; {field: true} (or false): only while that field has
  (or has no) value, or is true (false). Otherwise empty (a flag: false).
- `choices` (any meaning): realistic values to pick from, strings filled in as a
  `pattern` is; repeat a value to make it likelier. With `by` (the name of another field
  of the record) `choices` is {value of that field: [values]}, `"*"` for the others.
- `own` (doc-no): true when the number belongs to the enterprise (an account): the same
  in every record about it.
- `days` (follow-up-date, later-date, start-date, earlier-date): [lo, hi] days after
  (earlier-date: before) the event date.
- `years` (end-date): [lo, hi] years after the start (or the event date).
- `format` (period): `month` (2025-03, the default), `quarter` (2025Q1), `year` (2025),
  `half` (2025H1).
- `offset` (year, period): periods before the event (an annual report of last year: -1).
"""

from __future__ import annotations

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
    "enterprise-type": "the enterprise's legal form (LIMITED_LIABILITY, JOINT_STOCK, "
    "INDIVIDUAL_BUSINESS...)",
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
    "earlier-date": "a date some days before the event (an application)",
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
    "scaling": (int, float),
    "round": (int, float),
    "per": str,
    "part_of": str,
    "share": (list, int, float, str),
    "sum_of": list,
    "range": list,
    "scaled": bool,
    "weights": dict,
    "closed": list,
    "expired": list,
    "adverse": bool,
    "present": (int, float),
    "when": dict,
    "choices": (list, dict),
    "by": str,
    "own": bool,
    "days": list,
    "years": list,
    "format": str,
    "offset": int,
}
PERIOD_FORMATS = ("month", "quarter", "half", "year")
# The words a `pattern` (or a string of `choices`) may hold in braces; `seq` takes 1-12.
PLACEHOLDERS = (
    "year", "month", "day", "district", "district_name", "dcode", "road", "court", "seq",
    "A", "trade", "uscc", "industry_code", "industry", "scope",
)  # fmt: skip
SCALES = ("MICRO", "SMALL", "MEDIUM", "LARGE")
# Attributes of a field that are Avro's or the catalog's own, not a meaning's parameters.
FIELD_KEYS = {"name", "type", "doc", "default", "order", "aliases", "sensitivity", "meaning"}
# Meanings whose values are numbers another field may take a part or a total of.
NUMERIC = ("money", "headcount", "count", "percent", "area", "score")
# Record attributes of the catalog's own (Avro keeps them).
DESCRIBES = ("enterprise",)
