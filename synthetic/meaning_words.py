"""Generators of the meanings that are words: the enterprise as registered, people,
organisations, places, document numbers, names and text."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from synthetic import names_zh as zh
from synthetic.draft import Draft
from synthetic.plan import Spec
from synthetic.profile import REFERENCE

DEFAULT_DOC_NO = "{dcode}{year}{seq6}"
DEFAULT_NAMES = ("{trade}{industry}项目", "{trade}技术改造项目", "{trade}产品")
DEFAULT_TEXT = ("正常", "已办结", "按期办理", "已核实", "无异常", "其他")
COMPANY_WORDS = ("贸易", "实业", "科技", "投资管理", "供应链管理", "建设工程")


def company_name(rng: random.Random) -> str:
    trade = rng.choice(zh.TRADE) + rng.choice(zh.TRADE)
    return f"上海{trade}{rng.choice(COMPANY_WORDS)}有限公司"


def _status(draft: Draft, spec: Spec) -> Any:
    # The register's own words where the enum has them; the enum's first symbol otherwise.
    status = draft.ent.status
    return status if status in spec.symbols or not spec.symbols else spec.symbols[0]


def _legal_form(draft: Draft, spec: Spec) -> Any:
    form = draft.ent.legal_form
    fallback = "LIMITED_LIABILITY" if "LIMITED_LIABILITY" in spec.symbols else None
    return form if form in spec.symbols or not spec.symbols else fallback


def _id_number(draft: Draft, spec: Spec) -> str:
    born = REFERENCE - dt.timedelta(days=draft.rng.randint(25 * 365, 65 * 365))
    return zh.resident_id(draft.rng, born)


def _authority(draft: Draft, spec: Spec) -> str:
    if "pattern" in spec.params:
        return draft.fill(spec.params["pattern"])
    return zh.AUTHORITY.get(draft.plan.agency, zh.AUTHORITY_DEFAULT).format(draft.ent.district)


def _doc_no(draft: Draft, spec: Spec) -> str:
    pattern = spec.get("pattern", DEFAULT_DOC_NO)
    if not spec.get("own"):
        return draft.fill(pattern)
    # The enterprise's own number (an account): drawn from its code, not from the record.
    own = random.Random(f"{draft.ent.uscc}:{pattern}")
    return draft.fill(pattern, own, draft.ent.established_on)


def _name(draft: Draft, spec: Spec) -> str:
    return draft.fill(spec.get("pattern") or draft.rng.choice(DEFAULT_NAMES))


def _choice(draft: Draft, spec: Spec) -> Any:
    # Without `choices` (handled for every meaning), an enum's symbols are the list.
    return draft.rng.choice(spec.symbols) if spec.symbols else draft.rng.choice(DEFAULT_TEXT)


GENERATORS: dict[str, Callable[[Draft, Spec], Any]] = {
    "uscc": lambda d, s: d.ent.uscc,
    "enterprise-name": lambda d, s: d.ent.name,
    "legal-representative": lambda d, s: d.ent.legal_representative_name,
    "legal-representative-id": lambda d, s: d.ent.legal_representative_id_no,
    "district": lambda d, s: d.ent.district,
    "industry-code": lambda d, s: d.ent.industry_code,
    "established-on": lambda d, s: d.ent.established_on,
    "enterprise-scale": lambda d, s: d.ent.scale,
    "enterprise-status": _status,
    "enterprise-type": _legal_form,
    "person-name": lambda d, s: zh.person_name(d.rng),
    "id-number": _id_number,
    "company": lambda d, s: company_name(d.rng),
    "bank": lambda d, s: zh.bank_branch(d.rng, d.district),
    "authority": _authority,
    "address": lambda d, s: zh.address(d.rng, d.district),
    "doc-no": _doc_no,
    "name": _name,
    "text": lambda d, s: d.rng.choice(DEFAULT_TEXT),
    "choice": _choice,
}
