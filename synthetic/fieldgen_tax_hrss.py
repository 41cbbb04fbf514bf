"""Field rules for the tax and hrss categories of the shipped catalog.

Imported by `synthetic.generate` for their registrations in `synthetic.fieldgen`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from synthetic.fieldgen import (
    ENUM_WEIGHTS,
    FACTOR,
    REFERENCE,
    Ctx,
    put,
    rule,
)

if TYPE_CHECKING:
    pass

# ---- tax ---------------------------------------------------------------------------------
put("decimal", "amount_paid", lambda c: c.money(800, 60_000), "tax.payment-record")
put("decimal", "late_fee", lambda c: c.money(5, 2_000, 0.5) if c.rng.random() < 0.1 else None)
put("string", "voucher_no", lambda c: f"3{c.district.code[2:]}{c.anchor:%y%m}{c.serial(8):08d}")
for _cat in ("tax.credit-rating", "ecology.credit-rating"):
    put("int", "year", lambda c: c.anchor.year - 1, _cat)
    put(
        "date",
        "evaluated_on",
        lambda c: min(dt.date(c.anchor.year, 4, c.rng.randint(1, 30)), REFERENCE),
        _cat,
    )


@rule("enum", "rating", "tax.credit-rating")
def _tax_rating(c: Ctx) -> str:
    # M is the level of enterprises set up in the year evaluated (or without business in it).
    young = c.ent.established_on.year >= c.anchor.year - 1
    return "M" if young and c.rng.random() < 0.5 else c.pick(ENUM_WEIGHTS["TaxCreditRating"])


@rule("int", "score")
def _score(c: Ctx) -> int | None:
    band = {
        "A": (90, 100),
        "B": (70, 89),
        "C": (40, 69),
        "D": (0, 39),
        "GREEN": (90, 100),
        "BLUE": (80, 89),
        "YELLOW": (60, 79),
        "RED": (40, 59),
        "BLACK": (0, 39),
    }
    lo_hi = band.get(c.record.get("rating", ""))
    return c.rng.randint(*lo_hi) if lo_hi and c.rng.random() < 0.85 else None


@rule("string", "downgrade_reason")
def _downgrade(c: Ctx) -> str | None:
    reasons = {
        "D": (
            "存在逃避缴纳税款行为",
            "虚开增值税专用发票",
            "欠缴税款5万元以上且未在规定期限内缴纳",
        ),
        "C": ("未按规定期限纳税申报", "未按规定期限缴纳已申报税款", "未按规定保管发票"),
    }
    rating = c.record.get("rating", "")
    if rating in reasons:
        return c.rng.choice(reasons[rating])
    return "未按规定期限纳税申报（扣分）" if rating == "B" and c.rng.random() < 0.3 else None


put("decimal", "amount_owed", lambda c: c.money(2_000, 200_000, 0.8), "tax.arrears")
put(
    "decimal",
    "late_fee_accrued",
    lambda c: min(
        c.record["amount_owed"],
        c.record["amount_owed"] * Decimal("0.0005") * c.rng.randint(30, 900),
    ),
)
put("date", "owed_since", lambda c: c.anchor)
put("boolean", "announced", lambda c: c.record.get("status") != "PAID" and c.rng.random() < 0.4)
put("int", "invoice_count", lambda c: int(c.rng.uniform(10, 300) * FACTOR[c.ent.scale] ** 0.8))
put("decimal", "total_amount", lambda c: c.money(20_000, 600_000, 0.9))
put(
    "decimal",
    "total_tax",
    lambda c: (
        c.record["total_amount"]
        * Decimal(
            c.rng.choice(
                ("0.01", "0.03") if c.ent.scale == "MICRO" else ("0.06", "0.09", "0.13", "0.13")
            )
        )
    ),
)
put(
    "decimal",
    "special_invoice_amount",
    lambda c: c.record["total_amount"] * Decimal(c.rng.uniform(0.2, 0.9)),
)
put("int", "red_invoice_count", lambda c: int(c.record["invoice_count"] * c.rng.uniform(0, 0.03)))
put("int", "voided_count", lambda c: int(c.record["invoice_count"] * c.rng.uniform(0, 0.02)))
put(
    "int", "buyer_count", lambda c: max(1, int(c.record["invoice_count"] * c.rng.uniform(0.1, 0.6)))
)
put("string", "declaration_no", lambda c: f"{c.anchor:%Y%m}{c.serial(4):04d}")
put("decimal", "export_sales", lambda c: c.money(100_000, 3_000_000))
put("int", "rebate_rate_percent", lambda c: c.rng.choice((13, 13, 13, 9, 6)))
put(
    "decimal",
    "rebate_amount",
    lambda c: c.record["export_sales"] * c.record["rebate_rate_percent"] / 100,
)
put(
    "decimal",
    "approved_amount",
    lambda c: (
        None
        if c.rng.random() < 0.2
        else (0 if c.rng.random() < 0.05 else c.record["rebate_amount"])
    ),
)


@rule("enum", "status", "tax.export-rebate")
def _rebate_status(c: Ctx) -> str:
    approved = c.record.get("approved_amount")
    if approved is None:
        return "DECLARED"
    return "REJECTED" if approved == 0 else c.rng.choice(("APPROVED", "PAID", "PAID"))


# ---- hrss --------------------------------------------------------------------------------
put("decimal", "contribution_base", lambda c: Decimal(c.headcount() * c.rng.uniform(7_384, 20_000)))
put("decimal", "employer_amount", lambda c: c.record["contribution_base"] * Decimal("0.265"))
put("decimal", "employee_amount", lambda c: c.record["contribution_base"] * Decimal("0.105"))
put(
    "decimal",
    "amount_paid",
    lambda c: (
        (c.record["employer_amount"] + c.record["employee_amount"])
        * Decimal(c.rng.choice((0, 0.5)) if c.adverse else 1)
    ),
    "hrss.social-insurance",
)
put("boolean", "in_arrears", lambda c: c.adverse)
put(
    "decimal",
    "arrears_amount",
    lambda c: (
        c.record["employer_amount"] + c.record["employee_amount"] - c.record["amount_paid"]
        if c.adverse
        else None
    ),
)


@rule("timestamp", "paid_at")
def _paid_at(c: Ctx) -> dt.datetime | None:
    unpaid = c.record.get("in_arrears") and not c.record.get("amount_paid")
    return None if unpaid else c.timestamp(c.anchor)


put(
    "string",
    "case_no",
    lambda c: f"沪{c.district.abbr}劳人仲({c.anchor.year})办字第{c.serial(4)}号",
    "hrss.labor-arbitration",
)
put("string", "arbitration_commission", lambda c: f"上海市{c.ent.district}劳动人事争议仲裁委员会")
put(
    "int",
    "claimant_count",
    lambda c: c.rng.choices((1, c.rng.randint(2, 9), c.rng.randint(10, 40)), weights=(70, 22, 8))[
        0
    ],
)
put("decimal", "amount_claimed", lambda c: c.record["claimant_count"] * c.money(8_000, 150_000, 0))
put("date", "filed_on", lambda c: c.anchor)


@rule("decimal", "award_amount")
def _award(c: Ctx) -> Decimal | None:
    share = {"AWARDED": (0.7, 1.0), "PARTIALLY_AWARDED": (0.2, 0.7), "SETTLED": (0.3, 0.8)}
    lo_hi = share.get(c.record.get("outcome", ""))
    return c.record["amount_claimed"] * Decimal(c.rng.uniform(*lo_hi)) if lo_hi else None


put("int", "layoff_rate_permille", lambda c: int(c.rng.triangular(0, 55, 0)))
put(
    "decimal",
    "amount",
    lambda c: (
        c.headcount()
        * Decimal(
            c.rng.uniform(
                *{"UNEMPLOYMENT_INSURANCE_REFUND": (300, 600)}.get(c.record["scheme"], (100, 500))
            )
        )
    ),
    "hrss.employment-stability",
)
put("date", "approved_on", lambda c: c.anchor)
put(
    "timestamp",
    "disbursed_at",
    lambda c: None if c.rng.random() < 0.15 else c.timestamp(c.after(10, 40)),
)
put(
    "string",
    "case_no",
    lambda c: f"沪{c.district.abbr}人社监({c.anchor.year}){c.serial(4)}号",
    "hrss.wage-arrears",
)
put("int", "workers_affected", lambda c: c.rng.randint(2, max(2, min(c.headcount(), 80))))
put(
    "boolean",
    "migrant_workers",
    lambda c: c.rng.random() < (0.9 if c.ent.industry_code[0] == "E" else 0.2),
)
put(
    "decimal",
    "amount_owed",
    lambda c: c.record["workers_affected"] * c.money(4_000, 30_000, 0),
    "hrss.wage-arrears",
)
put("date", "discovered_on", lambda c: c.anchor)
put(
    "boolean",
    "blacklisted",
    lambda c: c.record.get("status") == "REFERRED_TO_POLICE" or c.rng.random() < 0.05,
)
