"""Field rules for synthetic records: realistic values by category and field name.

`synthetic.generate` asks `rule_for(category, field, kind)` for each field; a rule returns a
value of that kind (None only for a nullable field). Fields are generated in schema order
and rules see the record built so far, so later fields agree with earlier ones; values
that two fields must share (a case's trial level and its number) go through `Ctx.memo`.
Fields without a rule get a value from their Avro type alone.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from schemas.uscc import ALPHABET, check_character
from synthetic import names_zh as zh

if TYPE_CHECKING:
    from synthetic.generate import Enterprise

# Generated histories end here, so that output depends on the seed only, not on the clock.
REFERENCE = dt.date(2025, 6, 30)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# How much larger the money and headcounts of each size class are than a micro firm's.
FACTOR = {"MICRO": 1.0, "SMALL": 6.0, "MEDIUM": 40.0, "LARGE": 250.0}
HEADCOUNT = {"MICRO": (1, 9), "SMALL": (10, 99), "MEDIUM": (100, 499), "LARGE": (500, 5000)}
AUTHORITY = {
    "tax": "国家税务总局上海市{}税务局",
    "hrss": "上海市{}人力资源和社会保障局",
    "planning": "上海市{}规划和自然资源局",
    "ecology": "上海市{}生态环境局",
    "housing": "上海市{}建设和管理委员会",
    "market": "上海市{}市场监督管理局",
    "stc": "上海市科学技术委员会",
    "court": "上海市{}人民法院",
}
# Follow-up dates (removed on, resolved on...) exist once a status says the matter is over.
CLOSED = {
    "REMOVED", "PAID", "CLOSED", "REFERRED_TO_POLICE", "CONCLUDED", "DISMISSED", "CANCELLED",
    "REVOKED", "AWARDED", "PARTIALLY_AWARDED", "SETTLED", "WITHDRAWN",
}  # fmt: skip


def _weights(spec: str) -> dict[str, int]:
    """`"A:25 B:45"` -> `{"A": 25, "B": 45}`."""
    return {symbol: int(weight) for symbol, weight in (w.split(":") for w in spec.split())}


# Weights of enum symbols where the first-symbol-mostly default would be unrealistic.
ENUM_WEIGHTS: dict[str, dict[str, int]] = {
    "TaxType": _weights(
        "VAT:40 CORPORATE_INCOME:20 INDIVIDUAL_INCOME_WITHHELD:20 STAMP_DUTY:8 PROPERTY:4 "
        "URBAN_LAND_USE:3 OTHER:4"
    ),
    "TaxCreditRating": _weights("A:25 B:45 M:15 C:10 D:5"),
    "EnvironmentalRating": _weights("GREEN:15 BLUE:60 YELLOW:18 RED:5 BLACK:2"),
    "ExportEnterpriseClass": _weights("CLASS_1:15 CLASS_2:30 CLASS_3:50 CLASS_4:5"),
    "ArrearsStatus": _weights("OUTSTANDING:50 PARTIALLY_PAID:20 PAID:25 WRITTEN_OFF:5"),
    "DisputeCause": _weights(
        "WAGE_ARREARS:30 CONTRACT_TERMINATION:20 ECONOMIC_COMPENSATION:20 OVERTIME_PAY:10 "
        "SOCIAL_INSURANCE:8 WORK_INJURY:7 OTHER:5"
    ),
    "PartyRole": _weights("RESPONDENT:9 APPLICANT:1"),
    "ArbitrationOutcome": _weights(
        "PENDING:15 AWARDED:20 PARTIALLY_AWARDED:25 DISMISSED:10 SETTLED:25 WITHDRAWN:5"
    ),
    "WageArrearsStatus": _weights(
        "INVESTIGATING:15 ORDERED_TO_PAY:20 PAID:50 REFERRED_TO_POLICE:5 CLOSED:10"
    ),
    "ManagementClass": _weights("KEY:10 SIMPLIFIED:30 REGISTRATION:60"),
    "EiaDocumentClass": _weights("REPORT:10 REPORT_FORM:60 REGISTRATION_FORM:30"),
    "EiaDecision": _weights("APPROVED:19 REJECTED:1"),
    "MortgageType": _weights("GENERAL:3 MAXIMUM_AMOUNT:7"),
    "LandAcquisition": _weights("LISTING:60 AGREEMENT:15 TENDER:5 AUCTION:5 ALLOCATION:5 LEASE:10"),
    "AbnormalReason": _weights(
        "ANNUAL_REPORT_NOT_FILED:55 UNREACHABLE_AT_ADDRESS:35 INFORMATION_NOT_DISCLOSED:7 "
        "FALSE_DISCLOSURE:3"
    ),
    "CollateralType": _weights(
        "PRODUCTION_EQUIPMENT:50 RAW_MATERIALS:10 INVENTORY:15 VEHICLES:15 VESSELS:2 OTHER:8"
    ),
    "PledgeStatus": _weights("EFFECTIVE:70 CANCELLED:25 REVOKED:5"),
    "TrialLevel": _weights("FIRST_INSTANCE:80 SECOND_INSTANCE:17 RETRIAL:3"),
    "DocumentType": _weights("JUDGMENT:55 RULING:25 MEDIATION:20"),
    "LitigationRole": _weights("PLAINTIFF:4 DEFENDANT:5 THIRD_PARTY:1"),
    "Performance": _weights("NOT_PERFORMED:85 PARTIALLY_PERFORMED:15"),
    "ListingStatus": _weights("LISTED:3 REMOVED:1"),
    "BankruptcyProcedure": _weights("LIQUIDATION:85 REORGANISATION:12 CONCILIATION:3"),
    "BankruptcyStatus": _weights(
        "ACCEPTED:30 DECLARED_BANKRUPT:30 PLAN_APPROVED:5 CONCLUDED:30 DISMISSED:5"
    ),
    "TechnologyField": _weights(
        "ELECTRONIC_INFORMATION:35 BIOMEDICINE:12 AEROSPACE:2 NEW_MATERIALS:12 "
        "HIGH_TECH_SERVICES:15 NEW_ENERGY_AND_ENERGY_SAVING:8 RESOURCES_AND_ENVIRONMENT:6 "
        "ADVANCED_MANUFACTURING:10"
    ),
}
T = TypeVar("T")
Rule = Callable[["Ctx"], Any]


@dataclass
class Ctx:
    """What a rule knows: the enterprise, the event date the record is about, and the record."""

    rng: random.Random
    ent: Enterprise
    category: str
    anchor: dt.date  # the date of the event the record reports
    adverse: bool  # this record reports trouble (arrears, unpaid...)
    record: dict[str, Any] = field(default_factory=dict)
    memos: dict[str, Any] = field(default_factory=dict)
    schema: Any = None  # the Avro type of the field being generated (enum rules read symbols)

    def memo(self, key: str, make: Callable[[], T]) -> T:
        if key not in self.memos:
            self.memos[key] = make()
        return self.memos[key]

    @property
    def agency(self) -> str:
        return self.category.split(".")[0]

    @property
    def district(self) -> zh.District:
        return zh.DISTRICT_BY_NAME[self.ent.district]

    @property
    def court_code(self) -> str:
        """`沪0115` for Pudong: the prefix of its district court's case numbers."""
        return "沪01" + self.district.code[4:]

    @property
    def period(self) -> str:
        """The month before the event: contributions and taxes are paid in arrears."""
        return f"{self.anchor.replace(day=1) - dt.timedelta(days=1):%Y-%m}"

    def money(self, lo: float, hi: float, exponent: float = 1.0) -> Decimal:
        """Log-uniform between lo and hi, scaled up by the enterprise's size class."""
        value = math.exp(self.rng.uniform(math.log(lo), math.log(hi)))
        return Decimal(value * FACTOR[self.ent.scale] ** exponent).quantize(Decimal("0.01"))

    def headcount(self) -> int:
        return self.memo("headcount", lambda: self.rng.randint(*HEADCOUNT[self.ent.scale]))

    def serial(self, digits: int) -> int:
        return self.rng.randrange(1, 10**digits)

    def after(self, lo: int, hi: int, day: dt.date | None = None) -> dt.date:
        """Some days after `day` (the anchor), never past the reference date."""
        start = day or self.anchor
        return max(start, min(start + dt.timedelta(days=self.rng.randint(lo, hi)), REFERENCE))

    def timestamp(self, day: dt.date) -> dt.datetime:
        """An instant in office hours, Shanghai time, of `day`, as UTC."""
        local = dt.datetime.combine(
            day,
            dt.time(
                self.rng.randint(9, 17),
                self.rng.randrange(60),
                self.rng.randrange(60),
                self.rng.randrange(1000) * 1000,
            ),
            SHANGHAI,
        )
        return local.astimezone(dt.UTC)

    def pick(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]


def years_later(day: dt.date, years: int) -> dt.date:
    """The last day of a term of `years` years starting on `day`."""
    try:
        end = day.replace(year=day.year + years)
    except ValueError:  # 29 February
        end = day.replace(year=day.year + years, day=28)
    return end - dt.timedelta(days=1)


def trade_name(ent: Enterprise) -> str:
    rest = ent.name.removeprefix("上海市").removeprefix(ent.district).removeprefix("上海")
    return rest[:2]


def company_name(rng: random.Random, words: tuple[str, ...] = ("贸易", "实业", "科技")) -> str:
    return f"上海{rng.choice(zh.TRADE)}{rng.choice(zh.TRADE)}{rng.choice(words)}有限公司"


_RULES: dict[tuple[str, str], tuple[str, Rule]] = {}


def rule_for(category: str, name: str, kind: str) -> Rule | None:
    """The rule for a field of `category`, if one fits its kind (int rules serve longs too)."""
    want = "int" if kind == "long" else kind
    for key in ((category, name), ("*", name)):
        hit = _RULES.get(key)
        if hit and hit[0] == want:
            return hit[1]
    return None


def put(kind: str, names: str, fn: Rule, category: str = "*") -> None:
    """Register `fn` for fields `names` (space-separated) of `category`, or of any category."""
    for name in names.split():
        # Rules live in several modules: a second rule for a field would win by import order.
        if (category, name) in _RULES:
            raise ValueError(f"a rule for {category} {name} exists already")
        _RULES[(category, name)] = (kind, fn)


def rule(kind: str, names: str, category: str = "*") -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        put(kind, names, fn, category)
        return fn

    return register


# ---- the enterprise itself, wherever a record repeats it -------------------------------
put("string", "uscc", lambda c: c.ent.uscc)
put("string", "enterprise_name", lambda c: c.ent.name)
put("string", "district", lambda c: c.ent.district)
put("string", "industry_code", lambda c: c.ent.industry_code)
put("string", "legal_representative_name", lambda c: c.ent.legal_representative_name)
put("string", "legal_representative_id_no", lambda c: c.ent.legal_representative_id_no)
put("date", "established_on", lambda c: c.ent.established_on)
put("enum", "scale", lambda c: c.ent.scale)
put("string", "period month", lambda c: c.period)
put("int", "year", lambda c: c.anchor.year)
put("string", "tax_office", lambda c: AUTHORITY["tax"].format(c.ent.district))
put(
    "string",
    "authority registration_authority issuing_authority",
    lambda c: AUTHORITY.get(c.agency, "上海市{}人民政府").format(c.ent.district),
)
put(
    "string",
    "location project_location registered_address address",
    lambda c: zh.address(c.rng, c.district),
)
put("string", "mortgagee", lambda c: zh.bank_branch(c.rng, c.district))
put(
    "timestamp",
    "declared_at decided_at issued_at registered_at",
    lambda c: c.timestamp(c.anchor),
)
put("int", "headcount insured_headcount employees contributor_count", lambda c: c.headcount())


@rule("date", "removed_on resolved_on concluded_on cancelled_on award_date")
def _follow_up(c: Ctx) -> dt.date | None:
    state = c.record.get("status") or c.record.get("outcome")
    closed = c.rng.random() < 0.4 if state is None else state in CLOSED
    return c.after(20, 400) if closed else None


@rule("enum", "status")
def _status(c: Ctx) -> str | None:
    # A term that has run out decides the status; without a term the generic choice applies.
    ends = [v for k, v in c.record.items() if k in ("valid_until", "term_end", "debt_term_end")]
    symbols = list(c.schema.get("symbols", ())) if isinstance(c.schema, dict) else []
    lapsed = [s for s in ("EXPIRED", "DISCHARGED", "CANCELLED") if s in symbols]
    if not ends or not isinstance(ends[0], dt.date) or not lapsed:
        return None
    if ends[0] < REFERENCE:
        return lapsed[0]
    current = [s for s in ("VALID", "EFFECTIVE", "REGISTERED") if s in symbols]
    others = [s for s in symbols if s not in lapsed and s not in current]
    if current and (not others or c.rng.random() < 0.95):
        return current[0]
    return c.rng.choice(others) if others else None


# How many years back the events of a category go (default 3): titles and trademarks last.
HISTORY_YEARS = {
    "planning.real-estate": 20,
    "planning.land-use-right": 25,
    "market.trademark": 12,
    "housing.qualification": 8,
    "stc.high-tech-enterprise": 9,
    "ecology.discharge-permit": 7,
}
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
NEW_CODES_FROM = dt.date(2015, 10, 1)  # USCCs replaced organisation codes from then on


def org_code(rng: random.Random, new_style: bool) -> str:
    """A 9-character organisation code (GB 11714): 8 characters and a check character."""
    if new_style:
        body = "MA" + "".join(rng.choice(ALPHABET) for _ in range(6))
    else:
        body = rng.choice("0135678") + "".join(rng.choice("0123456789") for _ in range(7))
    check = 11 - sum(int(ch, 36) * w for ch, w in zip(body, ORG_WEIGHTS, strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


def new_uscc(
    rng: random.Random, division: str, kind: str = "91", since: dt.date = REFERENCE
) -> str:
    """A valid USCC: registration authority and type (`91` enterprise, `92` individual
    business), division code, organisation code, check character."""
    first17 = kind + division + org_code(rng, since >= NEW_CODES_FROM)
    return first17 + check_character(first17)
