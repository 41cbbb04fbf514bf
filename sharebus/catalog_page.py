"""The HTML catalog: one page, every category a collapsible block, searchable as you type.

One page rather than a page per category: the search must see every category's fields,
and a browser opening a file:// page may not fetch a JSON index next to it; with the
blocks closed, a browser lays out only their summaries, so 300 categories open at once.
The CSS and the script (`sharebus/site/`) are inlined: the page needs no server and no
network. Chinese text is marked `lang="zh-Hans"`, so browsers pick a Simplified Chinese
face for it rather than a Japanese one.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from importlib import resources

from consumers.grants import GrantView
from sharebus.catalog_site import BankSummary, CategoryPage, FieldRow, Party, Site, window_state

SENSITIVITY = {"public": "公开", "internal": "内部", "personal": "个人信息"}
# Before anything else runs: errors of the page's script are written where a test (or a
# curious reader's inspector) sees them, on the root element.
CATCH_ERRORS = (
    'window.addEventListener("error",function(e){var r=document.documentElement;'
    'r.setAttribute("data-js-errors",(r.getAttribute("data-js-errors")||"")+e.message+"; ")});'
)


def e(text: object) -> str:
    return escape(str(text), quote=True)


def zh(text: str) -> str:
    return f' <span class="zh" lang="zh-Hans">{e(text)}</span>' if text else ""


def _asset(name: str) -> str:
    return resources.files("sharebus").joinpath("site", name).read_text("utf-8")


def _day(moment: object) -> str:
    return f"{moment:%Y-%m-%d}" if moment is not None else "open-ended"


def render(site: Site) -> str:
    """The whole page, as text."""
    cats = site.categories
    banks = {b.bank.id: b.bank for b in site.banks}
    agreements = sum(len(b.agreements) for b in site.banks)
    head = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<script>{CATCH_ERRORS}</script>\n"
        "<title>sharebus catalog · 数据共享目录</title>\n"
        f"<style>\n{_asset('catalog.css')}</style>\n</head>\n<body>\n"
    )
    top = (
        '<header class="top"><div class="wrap">\n'
        f"<h1>Enterprise data catalog{zh('企业数据共享目录')}</h1>\n"
        f'<p class="lede"><b>{len(cats)}</b> categories from <b>{len(site.agencies)}</b> '
        f"agencies; <b>{len(banks)}</b> banks hold <b>{agreements}</b> agreements with "
        f"<b>{site.grant_count}</b> grants.</p>\n"
        f'<p class="source">Governance: {e(site.source)} · generated '
        f"{site.generated_at:%Y-%m-%d %H:%M %Z}</p>\n</div></header>\n"
    )
    options = "".join(
        f'<option value="{e(b.id)}">granted to {e(b.id)}: {e(b.name_en)}</option>'
        for b in banks.values()
    )
    bar = (
        '<div class="bar"><div class="wrap">\n'
        '<input id="q" type="search" autocomplete="off" spellcheck="false" '
        'placeholder="Search ids, titles, descriptions, field names · 搜索（按 / 键）" '
        'aria-label="search categories">\n'
        '<select id="bank" aria-label="bank"><option value="">any bank</option>'
        f"{options}</select>\n"
        '<label><input id="entrusted" type="checkbox"> entrusted only</label>\n'
        f'<span id="shown" aria-live="polite">{len(cats)} categories</span>\n'
        "</div></div>\n"
    )
    body = [head, top, bar, '<main class="wrap">\n', _overview(site)]
    body.append(f'<h2 id="categories">Categories{zh("数据类别")}</h2>')
    for agency, pages in site.agencies:
        body.append(_agency(agency, pages, banks, site.generated_at))
    body.append(
        '</main>\n<footer><div class="wrap">Terminated agreements are not listed. A category '
        "reaches a bank only while it is entrusted, its agreement is active and in its window, "
        "and the record passes the row filter (and, where required, the enterprise consented)."
        f"</div></footer>\n<script>\n{_asset('catalog.js')}</script>\n</body>\n</html>\n"
    )
    return "".join(body)


def _overview(site: Site) -> str:
    cards = []
    for agency, pages in site.agencies:
        entrusted = sum(1 for p in pages if p.entrusted and p.entrusted.in_force)
        cards.append(
            f'<a class="card" href="#agency-{e(agency.id)}"><span class="name">'
            f"{e(agency.name_en)}{zh(agency.name_zh)}</span>"
            f'<span class="count"><b>{len(pages)}</b> categories · {entrusted} entrusted</span></a>'
        )
    rows = "".join(_bank_row(b) for b in site.banks)
    return (
        '<div id="overview">'
        f"<h2>Agencies{zh('委办局')}</h2>\n"
        f'<div class="cards">{"".join(cards)}</div>\n'
        f"<h2>Banks{zh('银行')}</h2>\n"
        '<div class="table-wrap"><table class="banks"><thead><tr><th>Bank</th>'
        "<th>Agreements (status, window, grants)</th><th>Grants</th><th>Categories</th><th></th>"
        f"</tr></thead><tbody>{rows}</tbody></table></div></div>\n"
    )


def _bank_row(summary: BankSummary) -> str:
    bank = summary.bank
    agreements = "".join(
        f'<span class="agreement"><code>{e(a.id)}</code> v{a.version} '
        f'<span class="status {e(a.status)}">{e(a.status)}</span> '
        f'<span class="window">{_day(a.effective_from)} → {_day(a.effective_until)}</span> · '
        f"{a.grants} grants · {e(a.purpose)}</span>"
        for a in summary.agreements
    )
    return (
        f'<tr id="bank-{e(bank.id)}"><td><strong>{e(bank.name_en)}</strong>{zh(bank.name_zh)} '
        f"<code>{e(bank.id)}</code></td><td>{agreements or '<span class=none>none</span>'}</td>"
        f'<td class="num">{summary.grants}</td><td class="num">{summary.categories}</td>'
        f'<td><button type="button" data-bank="{e(bank.id)}">show its categories</button></td></tr>'
    )


def _agency(
    agency: Party, pages: tuple[CategoryPage, ...], banks: dict[str, Party], now: datetime
) -> str:
    blocks = "".join(_category(p, banks, now) for p in pages)
    return (
        f'<section class="agency" id="agency-{e(agency.id)}" data-count="{len(pages)}">\n'
        f"<h2>{e(agency.name_en)}{zh(agency.name_zh)}"
        f'<span class="count">{len(pages)} categories</span></h2>\n{blocks}</section>\n'
    )


def _category(page: CategoryPage, banks: dict[str, Party], now: datetime) -> str:
    cat = page.category
    entrusted = page.entrusted is not None and page.entrusted.in_force
    chips = "".join(f'<span class="chip">{e(b)}</span>' for b in page.banks)
    tags = (
        (
            '<span class="tag ok">entrusted</span>'
            if entrusted
            else '<span class="tag quiet">not entrusted</span>'
        )
        + chips
        + f'<span class="tag n">{len(page.fields)} fields</span>'
    )
    summary = (
        f'<summary><span class="cat-title">{e(page.title_en)}{zh(page.title_zh)}</span>'
        f'<code class="cat-id">{e(page.id)}</code><span class="tags">{tags}</span></summary>'
    )
    facts = (
        '<dl class="facts">'
        f"<dt>Source topic</dt><dd><code>{e(cat.topic)}</code></dd>"
        f"<dt>Schema subject</dt><dd><code>{e(cat.subject)}</code></dd>"
        f"<dt>Entrusted</dt><dd>{_entrustment(page)}</dd></dl>"
    )
    grants = "".join(_grant(g, banks, now, len(page.fields)) for g in page.grants)
    granted = (
        f'<ul class="grants">{grants}</ul>'
        if grants
        else '<p class="none">No bank is granted this category.</p>'
    )
    return (
        f'<details class="cat" id="{e(page.id)}" data-search="{e(page.search_text())}" '
        f'data-banks="{e(" ".join(page.banks))}" data-entrusted="{int(entrusted)}">'
        f'{summary}<div class="cat-body"><p class="doc">{e(page.doc_en)}{zh(page.doc_zh)}</p>'
        f"{facts}{_fields(page)}<h3>Granted to</h3>{granted}</div></details>\n"
    )


def _entrustment(page: CategoryPage) -> str:
    found = page.entrusted
    if found is None:
        return (
            '<span class="tag quiet">not entrusted</span> no entrustment lists it: no bank '
            "receives it, whatever an agreement grants"
        )
    window = f"{_day(found.since)} → {_day(found.until)}"
    tag = (
        '<span class="tag ok">entrusted</span>'
        if found.in_force
        else '<span class="tag off">not in force</span>'
    )
    return (
        f"{tag} by the <code>{e(found.agency)}</code> entrustment v{found.version}, "
        f'<span class="status {e(found.status)}">{e(found.status)}</span> '
        f'<span class="window">{window}</span>'
    )


def _fields(page: CategoryPage) -> str:
    heads = "".join(
        f'<th class="g" title="{e(g.agreement)} v{g.agreement_version}, {e(g.status)}">'
        f"{e(g.bank)}<small>{e(g.agreement)}</small></th>"
        for g in page.grants
    )
    rows = "".join(_field_row(f, page.grants) for f in page.fields)
    legend = (
        '<p class="legend">A column per grant: <b class="yes">✓</b> delivered as is, '
        '<b class="no">–</b> not granted, <span class="mask">hash</span> delivered masked '
        "(or dropped) as the grant says below; hover for how.</p>"
        if page.grants
        else ""
    )
    return (
        '<div class="table-wrap"><table class="fields"><thead><tr><th>Field</th><th>Type</th>'
        f"<th>Sensitivity</th><th>Description</th>{heads}</tr></thead>"
        f"<tbody>{rows}</tbody></table></div>{legend}"
    )


def _field_row(field: FieldRow, grants: tuple[GrantView, ...]) -> str:
    nullable = ' <span class="nullable">nullable</span>' if field.optional else ""
    symbols = "".join(f"<span>{e(s)}{zh(label)}</span>" for s, label in field.symbols)
    meaning = (
        f'<div class="meaning">meaning <code>{e(field.meaning)}</code>: '
        f"{e(field.meaning_text)}</div>"
        if field.meaning
        else ""
    )
    cells = "".join(_cell(field.name, g) for g in grants)
    return (
        f"<tr><td><code>{e(field.name)}</code></td><td><code>{e(field.type)}</code>{nullable}</td>"
        f'<td><span class="sens {e(field.sensitivity)}">{e(field.sensitivity)}'
        f"{zh(SENSITIVITY.get(field.sensitivity, ''))}</span></td>"
        f'<td class="desc">{e(field.doc_en)}{zh(field.doc_zh)}{meaning}'
        f"{f'<div class=symbols>{symbols}</div>' if symbols else ''}</td>{cells}</tr>"
    )


def _kind(how: str) -> str:
    """A mask's kind, from how the grant view says it (`partial (first 6, ...)`)."""
    return how.split(" ")[0]


def _cell(name: str, grant: GrantView) -> str:
    how = grant.masks.get(name)
    if how is not None:
        return f'<td class="g"><span class="mask" title="{e(how)}">{e(_kind(how))}</span></td>'
    if name in grant.fields:
        return '<td class="g yes">✓</td>'
    return '<td class="g no">–</td>'


def _fields_granted(grant: GrantView, total: int) -> str:
    masked = sum(1 for how in grant.masks.values() if _kind(how) != "drop")
    return f"{len(grant.fields)} of {total} delivered, {masked} of them masked"


def _grant(grant: GrantView, banks: dict[str, Party], now: datetime, total: int) -> str:
    bank = banks.get(grant.bank, Party(grant.bank, grant.bank, ""))
    state = window_state(grant.effective_from, grant.effective_until, now)
    masks = "; ".join(f"<code>{e(f)}</code> {e(how)}" for f, how in grant.masks.items())
    filter_text = f"<code>{e(grant.filter)}</code>" if grant.filter else "none: every record"
    live = grant.status == "active" and state == "in force" and grant.entrusted
    # Granted is not delivered: the agency must have entrusted the category too.
    unentrusted = (
        "" if grant.entrusted else ' <span class="tag off">nothing delivered: not entrusted</span>'
    )
    return (
        f'<li class="grant{"" if live else " inactive"}"><div class="grant-head">'
        f'<span class="bank">{e(bank.name_en)}</span>{zh(bank.name_zh)} <code>{e(bank.id)}</code>'
        f" · agreement <code>{e(grant.agreement)}</code> v{grant.agreement_version} "
        f'<span class="status {e(grant.status)}">{e(grant.status)}</span> <span class="window">'
        f"{_day(grant.effective_from)} → {_day(grant.effective_until)} · {state}</span>"
        f"{unentrusted}</div>"
        '<dl class="facts">'
        f"<dt>Purpose</dt><dd>{e(grant.purpose)}</dd>"
        f"<dt>Fields</dt><dd>{_fields_granted(grant, total)} (the column above)</dd>"
        f"<dt>Masks</dt><dd>{masks or 'none'}</dd>"
        f"<dt>Row filter</dt><dd>{filter_text}</dd>"
        f"<dt>Consent</dt><dd>{'required' if grant.consent_required else 'not required'}</dd>"
        f"<dt>Retention</dt><dd>{grant.retention_days} days; when the agreement ends: "
        f"{e(grant.on_end)}</dd></dl></li>"
    )
