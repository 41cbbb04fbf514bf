"""Field rules for the housing, stc and court categories of the shipped catalog.

Imported by `synthetic.generate` for their registrations in `synthetic.fieldgen`.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import TYPE_CHECKING

from synthetic import names_zh as zh
from synthetic.fieldgen import (
    AUTHORITY,
    ENUM_WEIGHTS,
    REFERENCE,
    Ctx,
    company_name,
    put,
    rule,
    years_later,
)

if TYPE_CHECKING:
    pass

# ---- housing -----------------------------------------------------------------------------
_QUALIFICATIONS = {
    "GENERAL_CONTRACTING": ("建筑工程施工总承包", "市政公用工程施工总承包", "机电工程施工总承包"),
    "SPECIALISED_CONTRACTING": (
        "建筑装修装饰工程专业承包",
        "电子与智能化工程专业承包",
        "消防设施工程专业承包",
        "环保工程专业承包",
        "地基基础工程专业承包",
    ),
    "LABOUR_SERVICE": ("施工劳务",),
}
_GRADES = {
    "MICRO": ("GRADE_3", "GRADE_2"),
    "SMALL": ("GRADE_2", "GRADE_3"),
    "MEDIUM": ("GRADE_1", "GRADE_2"),
    "LARGE": ("GRADE_1", "SPECIAL"),
}


def _qualification(c: Ctx) -> str:
    return c.memo("qualification", lambda: c.rng.choice(list(_QUALIFICATIONS)))


put(
    "string",
    "certificate_no",
    lambda c: f"D{c.rng.choice('23')}31{c.serial(6):06d}",
    "housing.qualification",
)
put("enum", "qualification_category", _qualification)
put("string", "qualification_name", lambda c: c.rng.choice(_QUALIFICATIONS[_qualification(c)]))
put(
    "enum",
    "grade",
    lambda c: (
        "UNGRADED" if _qualification(c) == "LABOUR_SERVICE" else c.rng.choice(_GRADES[c.ent.scale])
    ),
)
put(
    "string",
    "authority",
    lambda c: (
        "中华人民共和国住房和城乡建设部"
        if c.record.get("grade") in ("SPECIAL", "GRADE_1")
        else "上海市住房和城乡建设管理委员会"
    ),
    "housing.qualification",
)
put(
    "string",
    "permit_no",
    lambda c: f"{c.district.code}{c.anchor:%Y%m%d}{c.serial(2):02d}01",
    "housing.construction-permit",
)
put(
    "enum",
    "role",
    lambda c: {"E": "CONTRACTOR", "K": "DEVELOPER", "M": "DESIGNER"}.get(
        c.ent.industry_code[0], "DEVELOPER"
    ),
    "housing.construction-permit",
)
put("decimal", "contract_amount", lambda c: round(c.money(3_000_000, 80_000_000, 0.5), -3))
put(
    "decimal",
    "construction_area",
    lambda c: c.record["contract_amount"] / Decimal(c.rng.uniform(2_500, 6_000)),
)
put("date", "planned_start", lambda c: c.anchor + dt.timedelta(days=c.rng.randint(0, 60)))
put(
    "date",
    "planned_completion",
    lambda c: c.record["planned_start"] + dt.timedelta(days=c.rng.randint(300, 1_100)),
)
put(
    "string", "account_no", lambda c: f"{random.Random(c.ent.uscc).randrange(10**11, 10**12)}"
)  # one per enterprise
put(
    "int",
    "contributor_count",
    lambda c: max(1, int(c.headcount() * c.rng.uniform(0.7, 1.0))),
    "housing.provident-fund",
)
put("int", "contribution_rate_percent", lambda c: c.rng.choice((5, 7, 7, 6)))
put(
    "decimal",
    "amount",
    lambda c: (
        c.record["contributor_count"]
        * Decimal(c.rng.uniform(2_690, 20_000) * c.record["contribution_rate_percent"] / 50)
    ),
    "housing.provident-fund",
)


# ---- stc ---------------------------------------------------------------------------------
put(
    "string",
    "certificate_no",
    lambda c: f"GR{c.anchor.year}31{c.serial(6):06d}",
    "stc.high-tech-enterprise",
)
put(
    "enum",
    "technology_field",
    lambda c: {"I": "ELECTRONIC_INFORMATION", "M": "NEW_MATERIALS", "L": "HIGH_TECH_SERVICES"}.get(
        c.ent.industry_code[0], c.pick(ENUM_WEIGHTS["TechnologyField"])
    ),
)
put("date", "valid_until", lambda c: years_later(c.anchor, 3), "stc.high-tech-enterprise")
put("int", "rd_expense_ratio_percent", lambda c: c.rng.randint(3, 12))
put(
    "string",
    "registration_no",
    lambda c: f"{c.anchor.year}{c.district.code}{c.serial(8):08d}",
    "stc.tech-sme",
)
put("int", "rd_staff_count", lambda c: max(1, int(c.headcount() * c.rng.uniform(0.1, 0.6))))
put("decimal", "rd_expense", lambda c: c.money(300_000, 5_000_000, 0.5))
put(
    "enum", "status", lambda c: "REGISTERED" if c.rng.random() < 0.92 else "REMOVED", "stc.tech-sme"
)
put("string", "project_no", lambda c: f"{c.anchor.year % 100:02d}{c.serial(9):09d}")
put(
    "string",
    "project_name",
    lambda c: (
        f"{zh.INDUSTRY_BY_CODE[c.ent.industry_code].description}"
        f"{c.rng.choice(('关键技术研究', '核心技术攻关与产业化', '技术研发及应用示范'))}"
        if c.ent.industry_code in zh.INDUSTRY_BY_CODE
        else "关键技术研究"
    ),
    "stc.rd-grant",
)
put(
    "string",
    "programme",
    lambda c: c.rng.choice(
        (
            "科技创新行动计划",
            "科技型中小企业技术创新资金",
            "高新技术领域项目",
            "社会发展科技攻关项目",
            "技术标准项目",
            "国际科技合作项目",
        )
    ),
)
put(
    "decimal",
    "amount",
    lambda c: Decimal(c.rng.choice((200, 300, 500, 800, 1_000, 2_000)) * 1_000),
    "stc.rd-grant",
)
put("date", "end_on", lambda c: years_later(c.anchor, c.rng.choice((2, 3))))


@rule("enum", "status", "stc.rd-grant")
def _grant_status(c: Ctx) -> str:
    if c.record["end_on"] < REFERENCE:
        return "ACCEPTED" if c.rng.random() < 0.85 else "TERMINATED"
    return "APPROVED" if (REFERENCE - c.anchor).days < 90 else "IN_PROGRESS"


# ---- court -------------------------------------------------------------------------------
def _trial(c: Ctx) -> str:
    return c.memo("trial", lambda: c.pick(ENUM_WEIGHTS["TrialLevel"]))


@rule("string", "case_no", "court.judgment")
def _judgment_no(c: Ctx) -> str:
    year = c.memo("case_year", lambda: (c.anchor - dt.timedelta(days=c.rng.randint(60, 300))).year)
    return {
        "FIRST_INSTANCE": f"({year}){c.court_code}民初{c.serial(5)}号",
        "SECOND_INSTANCE": f"({year})沪0{c.memo('intermediate', lambda: c.rng.choice('12'))}"
        f"民终{c.serial(5)}号",
        "RETRIAL": f"({year})沪民申{c.serial(4)}号",
    }[_trial(c)]


@rule("string", "court", "court.judgment")
def _judgment_court(c: Ctx) -> str:
    level = _trial(c)
    if level == "RETRIAL":
        return "上海市高级人民法院"
    if level == "SECOND_INSTANCE":
        return "上海市第{}中级人民法院".format(
            {"1": "一", "2": "二"}[c.memo("intermediate", lambda: c.rng.choice("12"))]
        )
    return AUTHORITY["court"].format(c.ent.district)


put("string", "cause", lambda c: c.rng.choice(zh.CIVIL_CAUSES))
put("enum", "trial_level", _trial)
put(
    "enum",
    "role",
    lambda c: (
        c.rng.choice(("APPELLANT", "APPELLEE"))
        if _trial(c) == "SECOND_INSTANCE"
        else c.pick(ENUM_WEIGHTS["LitigationRole"])
    ),
    "court.judgment",
)
put(
    "decimal",
    "amount",
    lambda c: None if c.rng.random() < 0.08 else c.money(10_000, 2_000_000, 0.4),
    "court.judgment",
)
for _cat in ("court.enforcement", "court.dishonest-debtor"):
    put("string", "case_no", lambda c: f"({c.anchor.year}){c.court_code}执{c.serial(5)}号", _cat)
    put(
        "string",
        "basis_doc_no",
        lambda c: f"({c.anchor.year - 1}){c.court_code}民初{c.serial(5)}号",
        _cat,
    )
put("string", "court", lambda c: AUTHORITY["court"].format(c.ent.district))
put("decimal", "amount", lambda c: c.money(20_000, 2_000_000, 0.3), "court.enforcement")
_ENFORCEMENT = {"IN_PROGRESS": 40, "CONCLUDED": 25, "TERMINATED_NO_ASSETS": 25, "SETTLED": 10}


def _enforcement(c: Ctx) -> str:
    return c.memo("enforcement", lambda: c.pick(_ENFORCEMENT))


@rule("decimal", "unperformed_amount", "court.enforcement")
def _unperformed(c: Ctx) -> Decimal | None:
    share = {"CONCLUDED": (0.0, 0.0), "IN_PROGRESS": (0.2, 1.0), "TERMINATED_NO_ASSETS": (0.6, 1.0)}
    lo_hi = share.get(_enforcement(c))
    return c.record["amount"] * Decimal(c.rng.uniform(*lo_hi)) if lo_hi else None


put("enum", "status", _enforcement, "court.enforcement")
put(
    "string",
    "obligation",
    lambda c: c.rng.choice(
        (
            "支付货款{}元及逾期付款利息",
            "归还借款本金{}元及利息、罚息",
            "支付工程款{}元",
            "支付租金{}元及违约金",
            "支付劳动报酬{}元",
        )
    ).format(f"{c.money(20_000, 1_500_000, 0.3):,}"),
)
put(
    "string",
    "behaviour",
    lambda c: c.rng.choices(
        (
            "有履行能力而拒不履行生效法律文书确定义务",
            "违反财产报告制度",
            "违反限制消费令",
            "以虚假诉讼、虚假仲裁或者以隐匿、转移财产等方法规避执行",
        ),
        weights=(70, 15, 10, 5),
    )[0],
)
put("string", "case_no", lambda c: f"({c.anchor.year})沪03破{c.serial(3)}号", "court.bankruptcy")
put("string", "court", lambda c: "上海市第三中级人民法院", "court.bankruptcy")
put("string", "applicant", lambda c: c.ent.name if c.rng.random() < 0.3 else company_name(c.rng))
put("string", "administrator", lambda c: c.rng.choice(zh.LAW_FIRMS))
put(
    "decimal",
    "claims_declared",
    lambda c: None if c.rng.random() < 0.2 else c.money(1_000_000, 50_000_000, 0.5),
)


@rule("enum", "status", "court.bankruptcy")
def _bankruptcy_status(c: Ctx) -> str:
    status = c.pick(ENUM_WEIGHTS["BankruptcyStatus"])
    if status == "PLAN_APPROVED" and c.record.get("procedure") != "REORGANISATION":
        return "DECLARED_BANKRUPT"
    return status
