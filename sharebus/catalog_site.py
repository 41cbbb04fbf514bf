"""What the HTML catalog says: every agency's categories, their fields, who entrusted them,
and which bank is granted which fields under which agreement.

Pure: built from a catalog and a governance snapshot at one instant, so a test can read it
without Kafka; `sharebus.catalog_page` renders it, `sharebus docs catalog` writes it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from consumers.grants import GrantView, grants_of
from governance.models import Entrustment, Governance, Status
from schemas.catalog import AGENCIES, Catalog, Category
from sharebus.catalog_view import (
    enum_of,
    meaning_text,
    meanings_of,
    split_doc,
    symbol_labels,
    title_of,
    type_name,
)


@dataclass(frozen=True)
class FieldRow:
    name: str
    type: str  # without null: `decimal(18,2)`, `enum`, `date`... (symbols in `symbols`)
    optional: bool  # nullable
    sensitivity: str
    doc_en: str
    doc_zh: str
    meaning: str | None
    meaning_text: str
    symbols: tuple[tuple[str, str], ...]  # (symbol, its Chinese label or '')


@dataclass(frozen=True)
class Entrusted:
    """Whether a category is entrusted for sharing, and by which entrustment."""

    agency: str
    version: int
    status: str
    since: datetime
    until: datetime | None
    in_force: bool  # active and in its window: only then is anything delivered


@dataclass(frozen=True)
class CategoryPage:
    category: Category
    title_en: str
    title_zh: str
    doc_en: str
    doc_zh: str
    fields: tuple[FieldRow, ...]
    entrusted: Entrusted | None
    grants: tuple[GrantView, ...]

    @property
    def id(self) -> str:
        return self.category.id

    @property
    def banks(self) -> list[str]:
        return sorted({g.bank for g in self.grants})

    def search_text(self) -> str:
        """What the search box matches: id, titles, doc and field names."""
        parts = [self.id, self.title_en, self.title_zh, self.category.record.get("doc", "")]
        return " ".join(parts + [f.name for f in self.fields]).lower()


@dataclass(frozen=True)
class Party:
    id: str
    name_en: str
    name_zh: str


@dataclass(frozen=True)
class AgreementLine:
    """One agreement of a bank, for the banks' overview."""

    id: str
    version: int
    purpose: str
    status: str
    effective_from: datetime
    effective_until: datetime
    grants: int


@dataclass(frozen=True)
class BankSummary:
    bank: Party
    agreements: tuple[AgreementLine, ...]
    grants: int
    categories: int


@dataclass(frozen=True)
class Site:
    agencies: tuple[tuple[Party, tuple[CategoryPage, ...]], ...]
    banks: tuple[BankSummary, ...]
    source: str  # where the governance came from, in words
    generated_at: datetime

    @property
    def categories(self) -> list[CategoryPage]:
        return [page for _, pages in self.agencies for page in pages]

    @property
    def grant_count(self) -> int:
        return sum(b.grants for b in self.banks)


def window_state(start: datetime, end: datetime | None, now: datetime) -> str:
    """`in force`, `not yet` or `ended`: where `now` is against a window."""
    if now < start:
        return "not yet"
    return "ended" if end is not None and now >= end else "in force"


def build_site(catalog: Catalog, gov: Governance, source: str, now: datetime) -> Site:
    """The whole catalog as the governance `gov` has it at `now`."""
    banks = sorted(set(gov.banks) | {a.bank for a in gov.agreements.values()})
    views = {bank: grants_of(gov, bank, now) for bank in banks}
    by_category: dict[str, list[GrantView]] = {}
    for bank in banks:
        for view in views[bank]:
            by_category.setdefault(view.category, []).append(view)
    entrusting = {c: e for e in gov.entrustments.values() for c in e.categories}
    agencies = []
    # The programme's order of agencies, tax first (the catalog knows no other agency).
    for agency in AGENCIES:
        pages = tuple(
            _page(c, entrusting.get(c.id), by_category.get(c.id, []), now)
            for c in catalog.of_agency(agency)
        )
        agencies.append((_agency(gov, agency), pages))
    summaries = tuple(_bank(gov, bank, views[bank]) for bank in banks)
    return Site(tuple(agencies), summaries, source, now)


def _agency(gov: Governance, agency: str) -> Party:
    known = gov.agencies.get(agency)
    if known is not None:
        return Party(agency, known.name_en, known.name_zh)
    en, zh = split_doc(AGENCIES.get(agency, agency))
    return Party(agency, en, zh)


def _bank(gov: Governance, bank: str, views: list[GrantView]) -> BankSummary:
    known = gov.banks.get(bank)
    party = Party(bank, known.name_en, known.name_zh) if known else Party(bank, bank, "")
    per_agreement = Counter(v.agreement for v in views)
    agreements = tuple(
        AgreementLine(
            a.id,
            a.version,
            a.purpose,
            a.status.value,
            a.effective_from,
            a.effective_until,
            per_agreement[a.id],
        )
        for a in sorted(gov.agreements_of(bank), key=lambda a: a.id)
        if a.status is not Status.terminated
    )
    return BankSummary(party, agreements, len(views), len({v.category for v in views}))


def _page(
    category: Category, entrustment: Entrustment | None, grants: list[GrantView], now: datetime
) -> CategoryPage:
    title_en, title_zh = title_of(category)
    doc_en, doc_zh = split_doc(category.record.get("doc", ""))
    meanings = meanings_of(category)
    rows = []
    for f in category.fields:
        enum = enum_of(f.type)
        meaning = meanings.get(f.name)
        en, zh = split_doc(f.doc)
        # Nullable is said apart; an enum's symbols are listed under its doc.
        types = [t for t in (f.type if isinstance(f.type, list) else [f.type]) if t != "null"]
        rows.append(
            FieldRow(
                name=f.name,
                type=" | ".join("enum" if t is enum else type_name(t) for t in types),
                optional=f.optional,
                sensitivity=f.sensitivity,
                doc_en=en,
                doc_zh=zh,
                meaning=meaning,
                meaning_text=meaning_text(meaning) if meaning else "",
                symbols=tuple(symbol_labels(enum)) if enum else (),
            )
        )
    entrusted = None
    if entrustment is not None:
        entrusted = Entrusted(
            entrustment.agency,
            entrustment.version,
            entrustment.status.value,
            entrustment.effective_from,
            entrustment.effective_until,
            entrustment.status is Status.active and entrustment.in_window(now),
        )
    return CategoryPage(
        category, title_en, title_zh, doc_en, doc_zh, tuple(rows), entrusted, tuple(grants)
    )
