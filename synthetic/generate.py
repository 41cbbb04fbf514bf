"""Synthetic enterprises and records, realistic enough to demo and benchmark the bus.

`population()` makes Shanghai enterprises with valid USCCs and legal representatives;
`records()` makes records of any category for them. Values come from the rules of
`synthetic.fieldgen` (by category and field name) or, for fields no rule knows, from the Avro
type and the field name alone, so synthetic schemas of any shape get valid records too.
Pure Python (stdlib `random`), and a function of the seed only.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from schemas.catalog import Category

# The rule modules register their rules with synthetic.fieldgen when imported.
from synthetic import (  # noqa: F401
    fieldgen_housing_stc_court,
    fieldgen_market,
    fieldgen_planning_ecology,
    fieldgen_tax_hrss,
)
from synthetic import names_zh as zh
from synthetic.fieldgen import (
    ENUM_WEIGHTS,
    HISTORY_YEARS,
    REFERENCE,
    Ctx,
    company_name,
    new_uscc,
    rule_for,
    years_later,
)

SCALES = {"MICRO": 60, "SMALL": 25, "MEDIUM": 10, "LARGE": 5}
STATUSES = {"ACTIVE": 92, "REVOKED": 3, "CANCELLED": 3, "MOVED_OUT": 2}
MEAN_AGE_YEARS = {"MICRO": 4.0, "SMALL": 7.0, "MEDIUM": 11.0, "LARGE": 16.0}
JOINT_STOCK_SHARE = {"MEDIUM": 0.15, "LARGE": 0.5}
ADVERSE_SHARE = 0.08  # records that report trouble: arrears, unpaid contributions
NULL_SHARE = 0.1  # optional fields without a rule are left empty this often

PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
_LOGICAL = {
    ("bytes", "decimal"): "decimal",
    ("fixed", "decimal"): "decimal",
    ("int", "date"): "date",
    ("long", "timestamp-millis"): "timestamp",
    ("long", "timestamp-micros"): "timestamp",
    ("long", "local-timestamp-millis"): "local-timestamp",
    ("long", "local-timestamp-micros"): "local-timestamp",
    ("int", "time-millis"): "time",
    ("long", "time-micros"): "time",
    ("string", "uuid"): "uuid",
}
_PERSON_WORDS = ("person", "representative", "contact", "manager", "director", "holder", "legal")
_ADVERSE_WORDS = ("arrears", "overdue", "blacklist", "abnormal", "dishonest", "penal", "default")
_PHRASES = ("正常", "已办结", "按期办理", "其他", "已核实", "无异常", "待补正")


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
    scale = _pick(rng, SCALES)
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
        status=_pick(rng, STATUSES),
        legal_representative_name=zh.person_name(rng),
        legal_representative_id_no=zh.resident_id(rng, born),
    )


def records(
    category: Category, enterprises: Sequence[Enterprise], count: int, seed: int = 7
) -> Iterator[dict[str, Any]]:
    """`count` records of `category`, ready for fastavro, about enterprises of the population.

    Enterprises are taken in a shuffled order, so the first `len(enterprises)` records are
    about distinct enterprises (registrations for a whole population, say).
    """
    if count > 0 and not enterprises:
        raise ValueError("records need at least one enterprise")
    rng = random.Random(f"records:{seed}:{category.id}")
    named = named_types(category.record)
    order: list[int] = []
    for _ in range(count):
        if not order:
            order = list(range(len(enterprises)))
            rng.shuffle(order)
        ent = enterprises[order.pop()]
        # A registration describes the enterprise rather than an event: the same each time.
        own = rng
        if category.id == "market.registration":
            own = random.Random(f"records:{seed}:{category.id}:{ent.uscc}")
        yield _record(category, ent, own, named)


def _record(
    category: Category, ent: Enterprise, rng: random.Random, named: dict[str, Any]
) -> dict[str, Any]:
    years = HISTORY_YEARS.get(category.id, 3)
    start = max(ent.established_on, REFERENCE - dt.timedelta(days=int(years * 365.25)))
    anchor = start + dt.timedelta(days=rng.randint(0, (REFERENCE - start).days))
    ctx = Ctx(rng, ent, category.id, anchor, adverse=rng.random() < ADVERSE_SHARE)
    for f in category.record["fields"]:
        ctx.record[f["name"]] = value_for(ctx, f["name"], f["type"], named, category.id)
    return ctx.record


def value_for(ctx: Ctx, name: str, schema: Any, named: dict[str, Any], category: str = "") -> Any:
    """A value for field `name` of Avro type `schema`: by rule where one fits, else by type."""
    branches = schema if isinstance(schema, list) else [schema]
    nullable = "null" in branches
    choices = [b for b in branches if b != "null"]
    if not choices:
        return None
    kind, resolved = _kind(ctx.rng.choice(choices), named)
    rule = rule_for(category, name, kind)
    if rule is not None:
        ctx.schema = resolved
        try:
            value = _fit(rule(ctx), kind, resolved)
        except (KeyError, TypeError, InvalidOperation):
            value = None  # the rule needs a sibling field this schema lacks: go by type
        # None from an enum rule means "no opinion" (the symbols did not suit it), not null.
        if value is not None or (nullable and kind != "enum"):
            return value
    if nullable and ctx.rng.random() < NULL_SHARE:
        return None
    return _by_type(ctx, name, kind, resolved, named)


def named_types(
    schema: Any, namespace: str = "", out: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Named types (records, enums, fixed) defined in `schema`, by full and by short name."""
    out = {} if out is None else out
    if isinstance(schema, list):
        for branch in schema:
            named_types(branch, namespace, out)
    elif isinstance(schema, dict):
        if schema.get("type") in ("record", "error", "enum", "fixed") and "name" in schema:
            name = schema["name"]
            full = (
                name
                if "." in name
                else ".".join(p for p in (schema.get("namespace", namespace), name) if p)
            )
            out[full] = schema
            out.setdefault(full.rsplit(".", 1)[-1], schema)
            namespace = full.rpartition(".")[0]
        for f in schema.get("fields", []):
            named_types(f["type"], namespace, out)
        for key in ("items", "values", "type"):
            if isinstance(schema.get(key), (dict, list)):
                named_types(schema[key], namespace, out)
    return out


def _kind(schema: Any, named: dict[str, Any]) -> tuple[str, Any]:
    if isinstance(schema, str):
        if schema in PRIMITIVES:
            return schema, schema
        return _kind(named.get(schema) or named[schema.rsplit(".", 1)[-1]], named)
    if isinstance(schema, list):
        return "union", schema
    base, logical = schema.get("type"), schema.get("logicalType")
    if (base, logical) in _LOGICAL:
        return _LOGICAL[(base, logical)], schema
    if base in ("record", "error", "enum", "fixed", "array", "map"):
        return str(base), schema
    return _kind(base, named)


def _fit(value: Any, kind: str, schema: Any) -> Any:
    """A rule's value made exact for its type; None when it does not fit."""
    if value is None:
        return None
    if kind == "decimal":
        return _decimal(value, schema)
    if kind == "enum":
        return value if value in schema["symbols"] else None
    if kind in ("int", "long"):
        return int(value)
    return value


def _decimal(value: Any, schema: dict[str, Any]) -> Decimal:
    scale, precision = schema.get("scale", 0), schema["precision"]
    step = Decimal(1).scaleb(-scale)
    biggest = Decimal(10) ** (precision - scale) - step
    exact = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    return max(-biggest, min(biggest, exact)).quantize(step)


def _by_type(ctx: Ctx, name: str, kind: str, schema: Any, named: dict[str, Any]) -> Any:
    rng = ctx.rng
    if kind == "union":
        return value_for(ctx, name, schema, named)
    if kind == "record":
        return {f["name"]: value_for(ctx, f["name"], f["type"], named) for f in schema["fields"]}
    if kind == "array":
        return [value_for(ctx, name, schema["items"], named) for _ in range(rng.randint(0, 3))]
    if kind == "map":
        n = rng.randint(0, 3)
        return {f"{name}_{i}": value_for(ctx, name, schema["values"], named) for i in range(n)}
    if kind == "enum":
        return _symbol(rng, schema)
    if kind == "decimal":
        return _decimal(_amount(ctx, name), schema)
    if kind in ("date", "timestamp", "local-timestamp"):
        day = _date(ctx, name)
        if kind == "date":
            return day
        instant = ctx.timestamp(day)
        return instant if kind == "timestamp" else instant.replace(tzinfo=None)
    simple = {
        "null": lambda: None,
        "boolean": lambda: rng.random() < (0.1 if _has(name, _ADVERSE_WORDS) else 0.5),
        "int": lambda: _integer(ctx, name, 2**31 - 1),
        "long": lambda: _integer(ctx, name, 2**63 - 1),
        "float": lambda: round(rng.uniform(0, 1 if _has(name, ("rate", "ratio")) else 10_000), 4),
        "double": lambda: round(rng.uniform(0, 1 if _has(name, ("rate", "ratio")) else 10_000), 4),
        "bytes": lambda: rng.randbytes(rng.randint(4, 16)),
        "fixed": lambda: rng.randbytes(schema["size"]),
        "string": lambda: _text(ctx, name),
        "uuid": lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "time": lambda: dt.time(rng.randint(8, 18), rng.randrange(60), rng.randrange(60)),
    }
    return simple[kind]()


def _has(name: str, words: Sequence[str]) -> bool:
    return any(w in name for w in words)


def _symbol(rng: random.Random, schema: dict[str, Any]) -> str:
    symbols = schema["symbols"]
    known = ENUM_WEIGHTS.get(schema["name"].rsplit(".", 1)[-1])
    if known:
        weights = [known.get(s, 1) for s in symbols]
    else:  # the first symbol is usually the normal case (ACTIVE, VALID, ...): two in three
        weights = [max(1, 2 * (len(symbols) - 1))] + [1] * (len(symbols) - 1)
    return str(rng.choices(symbols, weights=weights)[0])


def _integer(ctx: Ctx, name: str, biggest: int) -> int:
    rng = ctx.rng
    if "year" in name:
        return ctx.anchor.year
    if _has(name, ("count", "headcount", "employees", "staff", "workers", "number_of", "num_")):
        return rng.randint(0, ctx.headcount())
    if _has(name, ("percent", "rate", "ratio", "pct")):
        return rng.randint(0, 100)
    if "score" in name:
        return rng.randint(40, 100)
    if biggest > 2**31 and (name.endswith(("_ms", "_at")) or "time" in name):
        return int(ctx.timestamp(ctx.anchor).timestamp() * 1000)
    return rng.randint(0, min(biggest, 10_000 if biggest < 2**31 else 1_000_000_000))


def _amount(ctx: Ctx, name: str) -> Decimal:
    if "capital" in name:
        return ctx.money(100_000, 5_000_000, 0.8)
    if _has(name, ("fine", "penalty")):
        return ctx.money(5_000, 200_000, 0.2)
    if "area" in name:
        return ctx.money(50, 5_000, 0.5)
    if _has(name, ("rate", "ratio")):
        return Decimal(ctx.rng.uniform(0, 1))
    if _has(name, ("price", "fee", "tax")):
        return ctx.money(100, 50_000, 0.6)
    return ctx.money(1_000, 500_000, 0.6)


def _date(ctx: Ctx, name: str) -> dt.date:
    rng = ctx.rng
    if "birth" in name:
        return REFERENCE - dt.timedelta(days=rng.randint(25 * 365, 65 * 365))
    if _has(name, ("establish", "found")):
        return ctx.ent.established_on
    if _has(name, ("until", "end", "expir", "deadline", "due", "maturity", "completion")):
        return years_later(ctx.anchor, rng.randint(1, 5))
    if _has(name, ("removed", "resolved", "concluded", "cancel", "closed", "revoked", "settled")):
        return ctx.after(20, 400)
    if _has(name, ("applied", "application")):
        return max(ctx.ent.established_on, ctx.anchor - dt.timedelta(days=rng.randint(30, 400)))
    return ctx.anchor


def _text(ctx: Ctx, name: str) -> str:
    rng, ent = ctx.rng, ctx.ent
    if _has(name, ("uscc", "credit_code")):
        return ent.uscc
    if _has(name, ("id_no", "id_card", "id_number")):
        return zh.resident_id(rng, REFERENCE - dt.timedelta(days=rng.randint(25 * 365, 65 * 365)))
    if name == "name" or name.endswith("_name"):
        return zh.person_name(rng) if _has(name, _PERSON_WORDS) else company_name(rng)
    if _has(name, ("address", "location")):
        return zh.address(rng, ctx.district)
    if _has(name, ("phone", "mobile", "tel")):
        return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"
    if "email" in name:
        return f"service{rng.randint(1, 999)}@example.com.cn"
    if _has(name, ("url", "website")):
        return f"https://www.example{rng.randint(1, 9999)}.com.cn"
    if _has(name, ("period", "month")):
        return ctx.period
    if _has(name, ("date", "day")):
        return ctx.anchor.isoformat()
    if "year" in name:
        return str(ctx.anchor.year)
    if "district" in name:
        return ent.district
    if "industry" in name:
        return ent.industry_code
    if "currency" in name:
        return "CNY"
    if name.endswith(("_no", "_number")):
        return f"沪{ctx.district.abbr}〔{ctx.anchor.year}〕{ctx.serial(5)}号"
    if name == "id" or name.endswith(("_code", "_id")):
        return f"{ctx.district.code}{ctx.anchor.year}{ctx.serial(6):06d}"
    return rng.choice(_PHRASES)


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]
