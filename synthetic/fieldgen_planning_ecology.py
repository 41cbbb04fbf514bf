"""Field rules for the planning and ecology categories of the shipped catalog.

Imported by `synthetic.generate` for their registrations in `synthetic.fieldgen`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from synthetic import names_zh as zh
from synthetic.fieldgen import (
    ENUM_WEIGHTS,
    REFERENCE,
    Ctx,
    put,
    rule,
    years_later,
)

if TYPE_CHECKING:
    pass


# ---- planning ----------------------------------------------------------------------------
def _title_no(c: Ctx, year: int, kind: str = "不动产权", digits: int = 6) -> str:
    # Shanghai issued unified real estate certificates from 2016; older titles are 房地产权证.
    if year < 2016:
        return f"沪房地{c.district.abbr}字({year})第{c.serial(6):06d}号"
    return f"沪({year}){c.district.abbr}字{kind}第{c.serial(digits):0{digits}d}号"


def _usage(c: Ctx, symbols: dict[str, str]) -> str:
    """What an enterprise's property is mostly used for follows its industry."""
    letter = c.ent.industry_code[0]
    if letter in symbols and c.rng.random() < 0.7:
        return symbols[letter]
    return c.rng.choice(sorted(set(symbols.values())))


put("string", "certificate_no", lambda c: _title_no(c, c.anchor.year), "planning.real-estate")
put("boolean", "encumbered", lambda c: c.rng.random() < 0.35)


@rule("string", "unit_no", "planning.real-estate")
def _unit_no(c: Ctx) -> str:
    building = (
        "W00000000"
        if c.memo("land_only", lambda: c.rng.random() < 0.15)
        else (f"F{c.serial(4):04d}{c.serial(4):04d}")
    )
    return f"{c.district.code}{c.serial(3):03d}{c.serial(3):03d}GB{c.serial(5):05d}{building}"


@rule("decimal", "building_area", "planning.real-estate")
def _building_area(c: Ctx) -> Decimal | None:
    if c.memo("land_only", lambda: c.rng.random() < 0.15):
        return None
    return c.memo("land_area", lambda: c.money(300, 20_000, 0.4)) * Decimal(c.rng.uniform(0.8, 2.5))


put("decimal", "land_area", lambda c: c.memo("land_area", lambda: c.money(300, 20_000, 0.4)))
put(
    "enum",
    "usage",
    lambda c: _usage(
        c,
        {
            "C": "INDUSTRIAL",
            "G": "WAREHOUSE",
            "F": "COMMERCIAL",
            "H": "COMMERCIAL",
            "M": "RESEARCH",
            "I": "OFFICE",
            "L": "OFFICE",
            "K": "RESIDENTIAL",
            "E": "OFFICE",
        },
    ),
)


@rule("enum", "right_type", "planning.real-estate")
def _right_type(c: Ctx) -> str:
    collective = c.rng.random() < 0.08
    if c.record.get("building_area") is None:
        return "COLLECTIVE_CONSTRUCTION_LAND" if collective else "STATE_CONSTRUCTION_LAND"
    return "COLLECTIVE_LAND_AND_BUILDING" if collective else "STATE_LAND_AND_BUILDING"


put(
    "string",
    "certificate_no",
    lambda c: _title_no(c, c.anchor.year, "不动产证明", 7),
    "planning.mortgage",
)
put(
    "string",
    "property_certificate_no",
    lambda c: _title_no(c, c.rng.randint(max(c.ent.established_on.year, 2005), c.anchor.year)),
)
put("decimal", "secured_amount", lambda c: round(c.money(500_000, 8_000_000, 0.6), -4))
put("date", "term_start debt_term_start start_on", lambda c: c.anchor)
put(
    "date",
    "term_end",
    lambda c: years_later(c.record.get("term_start", c.anchor), c.rng.randint(1, 5)),
)
put(
    "enum",
    "status",
    lambda c: (
        "DISCHARGED"
        if c.record["term_end"] < REFERENCE
        else ("EFFECTIVE" if c.rng.random() < 0.95 else "DISCHARGED")
    ),
    "planning.mortgage",
)
put(
    "string",
    "parcel_no",
    lambda c: f"{c.district.code}{c.serial(3):03d}{c.serial(3):03d}GB{c.serial(5):05d}",
)
put(
    "string",
    "contract_no",
    lambda c: f"沪{c.district.abbr}规划资源({c.anchor.year})出让合同第{c.serial(3)}号",
)
put("decimal", "area", lambda c: c.money(2_000, 60_000, 0.3), "planning.land-use-right")
put(
    "enum",
    "purpose",
    lambda c: _usage(
        c,
        {
            "C": "INDUSTRIAL",
            "G": "WAREHOUSING",
            "M": "RESEARCH_AND_DEVELOPMENT",
            "F": "COMMERCIAL",
            "I": "OFFICE",
            "K": "RESIDENTIAL",
            "L": "MIXED",
        },
    ),
)
_LAND_PRICE = {
    "INDUSTRIAL": (600, 2_500),
    "RESEARCH_AND_DEVELOPMENT": (1_500, 6_000),
    "WAREHOUSING": (600, 2_000),
    "COMMERCIAL": (8_000, 30_000),
    "OFFICE": (6_000, 25_000),
    "RESIDENTIAL": (20_000, 70_000),
    "MIXED": (5_000, 20_000),
}
_LAND_YEARS = {"COMMERCIAL": 40, "RESIDENTIAL": 70}
put(
    "decimal",
    "transfer_price",
    lambda c: (
        None
        if c.record["acquisition"] in ("ALLOCATION", "LEASE")
        else c.record["area"]
        * Decimal(c.rng.uniform(*_LAND_PRICE.get(c.record["purpose"], (1_000, 10_000))))
    ),
)
put(
    "date",
    "term_end",
    lambda c: years_later(
        c.anchor,
        _LAND_YEARS.get(
            c.record["purpose"],
            20 if c.anchor.year >= 2014 and c.record["purpose"] == "INDUSTRIAL" else 50,
        ),
    ),
    "planning.land-use-right",
)


# ---- ecology -----------------------------------------------------------------------------
_ENV_VIOLATIONS = {
    "EXCESS_DISCHARGE": (
        "废气排放口颗粒物排放浓度超过排放标准",
        "《中华人民共和国大气污染防治法》第九十九条第二项",
        100_000,
        1_000_000,
    ),
    "DISCHARGE_WITHOUT_PERMIT": (
        "未取得排污许可证排放污染物",
        "《排污许可管理条例》第三十三条第一项",
        200_000,
        1_000_000,
    ),
    "FALSIFIED_MONITORING_DATA": (
        "篡改、伪造自动监测数据",
        "《中华人民共和国大气污染防治法》第一百条第一项",
        200_000,
        1_000_000,
    ),
    "HAZARDOUS_WASTE": (
        "未按规定贮存危险废物，贮存场所未设置识别标志",
        "《中华人民共和国固体废物污染环境防治法》第一百一十二条",
        100_000,
        1_000_000,
    ),
    "EIA_NOT_APPROVED": (
        "建设项目环境影响评价文件未经批准擅自开工建设",
        "《中华人民共和国环境影响评价法》第三十一条第一款",
        50_000,
        500_000,
    ),
    "AIR_DUST": (
        "施工工地未采取有效扬尘污染防治措施",
        "《中华人民共和国大气污染防治法》第一百一十五条",
        10_000,
        100_000,
    ),
    "NOISE": (
        "超过噪声排放标准排放工业噪声",
        "《中华人民共和国噪声污染防治法》第七十五条",
        20_000,
        200_000,
    ),
    "OTHER": ("未按规定公开环境信息", "《中华人民共和国环境保护法》第六十二条", 10_000, 100_000),
}


def _env(c: Ctx) -> tuple[str, str, int, int]:
    return _ENV_VIOLATIONS.get(c.record.get("violation_type", ""), _ENV_VIOLATIONS["OTHER"])


put(
    "string",
    "decision_no",
    lambda c: f"{c.district.abbr}环罚〔{c.anchor.year}〕{c.serial(3)}号",
    "ecology.penalty",
)
put("string", "violation", lambda c: _env(c)[0], "ecology.penalty")
put("string", "legal_basis", lambda c: _env(c)[1])
put("decimal", "fine", lambda c: round(c.money(_env(c)[2], _env(c)[3], 0), -3), "ecology.penalty")
put(
    "decimal",
    "confiscated_amount",
    lambda c: c.money(5_000, 200_000, 0.3) if c.rng.random() < 0.15 else None,
)
put("boolean", "rectified", lambda c: c.rng.random() < 0.8)
put(
    "string",
    "permit_no",
    lambda c: (
        c.ent.uscc
        + f"{c.rng.choice((1, 1, 1, 2)):03d}"
        + (
            "W"
            if c.memo("class", lambda: c.pick(ENUM_WEIGHTS["ManagementClass"])) == "REGISTRATION"
            else "P"
        )
    ),
    "ecology.discharge-permit",
)
put(
    "enum",
    "management_class",
    lambda c: c.memo("class", lambda: c.pick(ENUM_WEIGHTS["ManagementClass"])),
)
put("string", "industry", lambda c: f"{_industry(c)} {c.ent.industry_code}")
put(
    "string",
    "pollutants",
    lambda c: c.rng.choice(
        ("废气,废水", "废气,废水,固体废物", "废气", "废水")
        if c.ent.industry_code[0] == "C"
        else ("废气", "废水", "噪声", "废气,噪声")
    ),
)
put("date", "issued_on", lambda c: c.anchor)
put("date", "valid_until", lambda c: years_later(c.anchor, 5))
put(
    "string",
    "approval_no",
    lambda c: f"{c.district.abbr}环保许评〔{c.anchor.year}〕{c.serial(3)}号",
)
put("decimal", "total_investment", lambda c: round(c.money(1_000_000, 50_000_000, 0.6), -4))
put(
    "decimal",
    "environmental_investment",
    lambda c: c.record["total_investment"] * Decimal(c.rng.uniform(0.01, 0.08)),
)


def _industry(c: Ctx) -> str:
    found = zh.INDUSTRY_BY_CODE.get(c.ent.industry_code)
    return found.description if found else "其他"


_PROJECTS = (
    "新建厂房",
    "研发中心",
    "生产线技术改造",
    "仓储物流中心",
    "总部办公楼",
    "标准厂房改建",
    "商业综合体",
    "住宅小区",
)
put(
    "string",
    "project_name",
    lambda c: f"{c.district.short}{c.rng.choice(c.district.roads)}{c.rng.choice(_PROJECTS)}项目",
)
