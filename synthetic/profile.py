"""Synthetic enterprises: the profile every record about one of them is made from.

`population()` makes Shanghai enterprises with valid USCCs, legal representatives with
valid resident ID numbers, a size class, a district, an industry and an age. What a
record needs beyond the register (a headcount, how large the firm is within its size
class, its legal form) is derived from the USCC, so it is the same in every record.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from schemas.uscc import ALPHABET, check_character
from synthetic import names_zh as zh

# Generated histories end here, so that output depends on the seed only, not on the clock.
REFERENCE = dt.date(2025, 6, 30)
SCALES = {"MICRO": 60, "SMALL": 25, "MEDIUM": 10, "LARGE": 5}
STATUSES = {"ACTIVE": 92, "REVOKED": 3, "CANCELLED": 3, "MOVED_OUT": 2}
MEAN_AGE_YEARS = {"MICRO": 4.0, "SMALL": 7.0, "MEDIUM": 11.0, "LARGE": 16.0}
JOINT_STOCK_SHARE = {"MEDIUM": 0.15, "LARGE": 0.5}
# How much larger the money of each size class is than a micro firm's.
FACTOR = {"MICRO": 1.0, "SMALL": 6.0, "MEDIUM": 40.0, "LARGE": 250.0}
HEADCOUNT = {"MICRO": (1, 9), "SMALL": (10, 99), "MEDIUM": (100, 499), "LARGE": (500, 5000)}
LEGAL_FORMS = {"LIMITED_LIABILITY": 70, "SOLE_SHAREHOLDER_LLC": 22, "FOREIGN_INVESTED": 6}
LEGAL_FORMS_STATE = {"STATE_OWNED": 2}
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
NEW_CODES_FROM = dt.date(2015, 10, 1)  # USCCs replaced organisation codes from then on


@dataclass(frozen=True)
class Enterprise:
    """One synthetic enterprise, as the business register knows it."""

    uscc: str
    name: str
    district: str
    scale: str  # MICRO/SMALL/MEDIUM/LARGE
    industry_code: str
    established_on: dt.date
    status: str
    legal_representative_name: str
    legal_representative_id_no: str

    @cached_property
    def _own(self) -> random.Random:
        # What the register does not say is drawn from the code, the same in every record.
        return random.Random(f"profile:{self.uscc}")

    @cached_property
    def headcount(self) -> int:
        return self._own.randint(*HEADCOUNT[self.scale])

    @cached_property
    def heft(self) -> float:
        """How large the firm is within its size class: 0.5 to 2, 1 typical."""
        return math.exp(self._own.uniform(math.log(0.5), math.log(2.0)))

    @cached_property
    def legal_form(self) -> str:
        """The legal form, as the register would have it, from the code and the name."""
        if self.uscc[1] == "2":
            return "INDIVIDUAL_BUSINESS"
        if self.name.endswith("股份有限公司"):
            return "JOINT_STOCK"
        forms = LEGAL_FORMS | LEGAL_FORMS_STATE
        return self._own.choices(list(forms), weights=list(forms.values()))[0]

    @property
    def trade(self) -> str:
        """The trade name (字号): `上海华鑫信息科技有限公司` -> `华鑫`."""
        return self.name.removeprefix("上海市").removeprefix(self.district).removeprefix("上海")[:2]

    @property
    def place(self) -> zh.District:
        return zh.DISTRICT_BY_NAME[self.district]

    @property
    def industry(self) -> zh.Industry | None:
        return zh.INDUSTRY_BY_CODE.get(self.industry_code)


def population(size: int = 1000, seed: int = 7) -> list[Enterprise]:
    """`size` distinct enterprises (USCCs and names unique); the same seed, the same list."""
    rng = random.Random(f"population:{seed}")
    out: list[Enterprise] = []
    usccs: set[str] = set()
    names: set[str] = set()
    while len(out) < size:
        ent = _enterprise(rng)
        if ent.uscc not in usccs and ent.name not in names:
            usccs.add(ent.uscc)
            names.add(ent.name)
            out.append(ent)
    return out


def _enterprise(rng: random.Random) -> Enterprise:
    scale = pick(rng, SCALES)
    district = rng.choices(zh.DISTRICTS, weights=[d.weight for d in zh.DISTRICTS])[0]
    industry = rng.choices(zh.INDUSTRIES, weights=[i.weight for i in zh.INDUSTRIES])[0]
    age_years = min(rng.expovariate(1 / MEAN_AGE_YEARS[scale]), 33.0)
    established = REFERENCE - dt.timedelta(days=int(age_years * 365.25))
    trade = rng.choice(zh.TRADE) + rng.choice(zh.TRADE)
    # Individual businesses (个体工商户, USCC type 2) are shops and eateries, all micro.
    individual = scale == "MICRO" and industry.code[0] in zh.SHOPS and rng.random() < 0.2
    if individual:
        name = f"上海市{district.name}{trade}{rng.choice(zh.SHOPS[industry.code[0]])}"
    else:
        joint_stock = rng.random() < JOINT_STOCK_SHARE.get(scale, 0.0)
        form = "股份有限公司" if joint_stock else "有限公司"
        name = f"上海{trade}{rng.choice(industry.words)}{form}"
    born = REFERENCE - dt.timedelta(days=rng.randint(28 * 365, 68 * 365))
    return Enterprise(
        uscc=new_uscc(rng, district.code, "92" if individual else "91", established),
        name=name,
        district=district.name,
        scale=scale,
        industry_code=industry.code,
        established_on=established,
        status=pick(rng, STATUSES),
        legal_representative_name=zh.person_name(rng),
        legal_representative_id_no=zh.resident_id(rng, born),
    )


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


def pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]
