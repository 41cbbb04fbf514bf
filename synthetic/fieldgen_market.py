"""Field rules for the market categories of the shipped catalog.

Imported by `synthetic.generate` for their registrations in `synthetic.fieldgen`.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import TYPE_CHECKING

from synthetic import names_zh as zh
from synthetic.fieldgen import (
    ENUM_WEIGHTS,
    REFERENCE,
    Ctx,
    company_name,
    new_uscc,
    put,
    rule,
    trade_name,
    years_later,
)

if TYPE_CHECKING:
    from synthetic.generate import Enterprise

# ---- market ------------------------------------------------------------------------------
_CAPITAL = {
    "MICRO": (10_000, 1_000_000),
    "SMALL": (1_000_000, 10_000_000),
    "MEDIUM": (10_000_000, 50_000_000),
    "LARGE": (50_000_000, 2_000_000_000),
}
_BANDS = (
    "UNDER_1M",
    "FROM_1M_TO_10M",
    "FROM_10M_TO_50M",
    "FROM_50M_TO_200M",
    "FROM_200M_TO_1B",
    "OVER_1B",
)
_BAND_OF_SCALE = {"MICRO": 0, "SMALL": 1, "MEDIUM": 2, "LARGE": 4}


def enterprise_type(ent: Enterprise) -> str:
    """The legal form, as the register would have it, from the name and the USCC."""
    if ent.uscc[1] == "2":
        return "INDIVIDUAL_BUSINESS"
    if ent.name.endswith("股份有限公司"):
        return "JOINT_STOCK"
    return random.Random(ent.uscc).choices(
        ("LIMITED_LIABILITY", "SOLE_SHAREHOLDER_LLC", "FOREIGN_INVESTED", "STATE_OWNED"),
        weights=(70, 22, 6, 2),
    )[0]


put("enum", "enterprise_type", lambda c: enterprise_type(c.ent))
put(
    "decimal",
    "registered_capital",
    lambda c: round(
        Decimal(c.rng.uniform(*_CAPITAL["MICRO" if c.ent.uscc[1] == "2" else c.ent.scale])), -4
    ),
)
put(
    "string",
    "business_scope",
    lambda c: (
        zh.INDUSTRY_BY_CODE[c.ent.industry_code].scope
        if c.ent.industry_code in zh.INDUSTRY_BY_CODE
        else "一般项目：技术服务、技术开发"
    ),
)
put(
    "date",
    "operating_term_end",
    lambda c: (
        None
        if c.rng.random() < 0.6
        else years_later(c.ent.established_on, c.rng.choice((20, 30, 50)))
    ),
)
put("enum", "status", lambda c: c.ent.status, "market.registration")
put(
    "date",
    "approved_on",
    lambda c: (
        c.ent.established_on
        + dt.timedelta(days=c.rng.randint(0, (REFERENCE - c.ent.established_on).days))
    ),
    "market.registration",
)
put(
    "int",
    "year",
    lambda c: max(c.anchor.year - 1, c.ent.established_on.year),
    "market.annual-report",
)


@rule("date", "submitted_on")
def _submitted(c: Ctx) -> dt.date:
    year = c.record.get("year", c.anchor.year - 1) + 1
    month = c.rng.randint(1, 6) if c.rng.random() < 0.92 else c.rng.randint(7, 12)
    return min(dt.date(year, month, c.rng.randint(1, 28)), REFERENCE)


put("boolean", "overdue", lambda c: c.record["submitted_on"] > dt.date(c.record["year"] + 1, 6, 30))
put(
    "enum",
    "revenue_band assets_band",
    lambda c: _BANDS[min(_BAND_OF_SCALE[c.ent.scale] + c.rng.choice((0, 0, 1)), len(_BANDS) - 1)],
)
put(
    "int",
    "insured_employees",
    lambda c: None if c.rng.random() < 0.2 else int(c.headcount() * c.rng.uniform(0.6, 1.0)),
)
put("boolean", "has_website", lambda c: c.rng.random() < 0.35)
_MARKET_VIOLATIONS = {
    "FALSE_ADVERTISING": ("在网店发布虚假广告，宣传商品具有未经证实的功效", 20_000, 300_000),
    "UNFAIR_COMPETITION": ("对商品的性能、功能作虚假或者引人误解的商业宣传", 20_000, 500_000),
    "PRODUCT_QUALITY": ("销售不合格产品", 5_000, 100_000),
    "FOOD_SAFETY": ("经营超过保质期的食品", 50_000, 150_000),
    "PRICING": ("未按规定明码标价", 500, 5_000),
    "UNLICENSED_OPERATION": ("未取得许可从事经营活动", 5_000, 200_000),
    "TRADEMARK_INFRINGEMENT": ("销售侵犯注册商标专用权的商品", 10_000, 250_000),
    "OTHER": ("未按规定办理变更登记", 10_000, 100_000),
}


def _fine(c: Ctx) -> Decimal | None:
    _, lo, hi = _MARKET_VIOLATIONS.get(c.record["violation_type"], _MARKET_VIOLATIONS["OTHER"])
    return c.memo("fine", lambda: None if c.rng.random() < 0.1 else round(c.money(lo, hi, 0), -2))


def _confiscated(c: Ctx) -> Decimal | None:
    return c.memo(
        "confiscated", lambda: c.money(1_000, 80_000, 0.3) if c.rng.random() < 0.25 else None
    )


@rule("string", "penalty_content", "market.penalty")
def _penalty_content(c: Ctx) -> str:
    fine, confiscated = _fine(c), _confiscated(c)
    parts = ["警告"] if fine is None else [f"罚款{fine:,.2f}元"]
    if confiscated is not None:
        parts.append(f"没收违法所得{confiscated:,.2f}元")
    return "；".join(parts)


put(
    "string",
    "decision_no",
    lambda c: (
        f"沪市监{c.district.abbr}处〔{c.anchor.year}〕"
        f"{c.district.code[4:]}{c.anchor.year}{c.serial(6):06d}号"
    ),
    "market.penalty",
)
put(
    "string",
    "violation",
    lambda c: _MARKET_VIOLATIONS.get(c.record["violation_type"], _MARKET_VIOLATIONS["OTHER"])[0],
    "market.penalty",
)
put("decimal", "fine", _fine, "market.penalty")
put("decimal", "confiscated_amount", _confiscated, "market.penalty")
put("date", "decided_on listed_on registered_on accepted_on judged_on", lambda c: c.anchor)
put("date", "publicity_until", lambda c: years_later(c.anchor, 3))
put(
    "string",
    "decision_no",
    lambda c: f"沪市监{c.district.abbr}异〔{c.anchor.year}〕{c.serial(5)}号",
    "market.abnormal-operation",
)
_REMOVALS = {
    "ANNUAL_REPORT_NOT_FILED": "已补报未报年份的年度报告并公示",
    "UNREACHABLE_AT_ADDRESS": "已依法办理住所变更登记",
    "INFORMATION_NOT_DISCLOSED": "已履行即时信息公示义务",
    "FALSE_DISCLOSURE": "已更正其公示的信息",
}
put(
    "string",
    "removal_reason",
    lambda c: (
        None
        if c.record.get("removed_on") is None
        else _REMOVALS.get(c.record.get("reason", ""), "已纠正")
    ),
)
_NICE = {
    9: "计算机软件（已录制）；计算机程序（可下载软件）；数据处理设备",
    35: "广告；替他人推销；进出口代理；商业管理辅助",
    42: "计算机软件设计；技术研究；信息技术咨询服务",
    43: "餐厅；饭店；咖啡馆；茶馆",
    39: "运输；货物贮存；货运代理",
    7: "机床；机器人（机械）；泵（机器）",
    5: "药品；医用营养品；兽药",
    10: "医疗器械和仪器；外科仪器和器械",
    12: "汽车零部件（陆地车辆）",
    25: "服装；鞋；帽",
    36: "不动产管理；不动产出租；不动产代理",
    37: "建筑施工监督；室内装潢；机械安装、保养和修理",
    31: "新鲜水果；新鲜蔬菜；农业种子",
    1: "工业用化学品；化学试剂",
    16: "纸；印刷品；包装用纸袋",
}
_NICE_OF_INDUSTRY = {
    "I": (9, 42),
    "C": (7, 9, 1, 5, 10, 12, 16, 25),
    "F": (35,),
    "H": (43,),
    "G": (39,),
    "L": (35,),
    "K": (36,),
    "E": (37,),
    "M": (42,),
    "A": (31,),
}
put(
    "string",
    "registration_no",
    # Numbers are given on application, about a year before registration, and grew from
    # about 8 million in 2010 to 75 million in 2024.
    lambda c: str(int(8e6 * 1.17 ** (c.anchor.year - 2011) * c.rng.uniform(0.9, 1.05))),
    "market.trademark",
)
put(
    "string",
    "mark",
    lambda c: (
        trade_name(c.ent)
        if c.rng.random() < 0.6
        else c.rng.choice(zh.TRADE) + c.rng.choice(zh.TRADE)
    ),
)
put(
    "int",
    "nice_class",
    lambda c: (
        c.rng.choice(_NICE_OF_INDUSTRY.get(c.ent.industry_code[0], (35,)))
        if c.rng.random() < 0.8
        else c.rng.randint(1, 45)
    ),
)
put("string", "goods_services", lambda c: _NICE.get(c.record.get("nice_class", 0), "核定使用商品"))
put(
    "date",
    "applied_on",
    lambda c: max(c.ent.established_on, c.anchor - dt.timedelta(days=c.rng.randint(200, 600))),
)
put("date", "valid_until", lambda c: years_later(c.anchor, 10), "market.trademark")
put(
    "string",
    "registration_no",
    lambda c: f"{c.district.code}{c.anchor.year}{c.serial(5):05d}",
    "market.chattel-mortgage",
)
put(
    "decimal",
    "secured_amount",
    lambda c: round(c.money(200_000, 5_000_000, 0.6), -3),
    "market.chattel-mortgage",
)
_COLLATERAL = {
    "PRODUCTION_EQUIPMENT": "数控机床等生产设备{}台（套）",
    "RAW_MATERIALS": "原材料一批",
    "INVENTORY": "库存商品一批",
    "VEHICLES": "重型厢式货车{}辆",
    "VESSELS": "内河货船1艘",
    "OTHER": "办公设备一批",
}
put(
    "string",
    "collateral",
    lambda c: _COLLATERAL.get(c.record.get("collateral_type", ""), "动产一批").format(
        c.rng.randint(2, 30)
    ),
)
put("date", "debt_term_end", lambda c: years_later(c.anchor, c.rng.randint(1, 3)))
put(
    "string",
    "registration_no",
    lambda c: f"{c.district.code}{c.anchor.year}{c.serial(7):07d}",
    "market.equity-pledge",
)


def _pledgor(c: Ctx) -> tuple[str, str]:
    def make() -> tuple[str, str]:
        roll = c.rng.random()
        if roll < 0.7:
            return c.ent.legal_representative_name, c.ent.legal_representative_id_no
        if roll < 0.9:
            born = REFERENCE - dt.timedelta(days=c.rng.randint(25 * 365, 65 * 365))
            return zh.person_name(c.rng), zh.resident_id(c.rng, born)
        holder = company_name(c.rng, ("投资管理", "实业", "控股"))
        return holder, new_uscc(c.rng, c.rng.choice(zh.DISTRICTS).code)

    return c.memo("pledgor", make)


put("string", "pledgor", lambda c: _pledgor(c)[0])
put("string", "pledgor_id_no", lambda c: _pledgor(c)[1])
put(
    "string",
    "pledgee",
    lambda c: (
        zh.bank_branch(c.rng, c.district)
        if c.rng.random() < 0.7
        else company_name(c.rng, ("融资担保", "小额贷款"))
    ),
)
put("decimal", "pledged_amount", lambda c: round(c.money(500_000, 20_000_000, 0.5), -4))
put("enum", "status", lambda c: c.pick(ENUM_WEIGHTS["PledgeStatus"]), "market.equity-pledge")
