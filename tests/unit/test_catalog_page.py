"""`sharebus docs catalog --governance examples/governance`: the page says, for every
category, its fields, whether it is entrusted, and which bank gets which fields, masked
how, filtered how, under which agreement. Read as a reader reads it, from the HTML."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consumers.grants import grants_of
from foundation.settings import PROJECT_ROOT
from governance.loader import governance_from_dir
from governance.models import Agreement, Bank, Entrustment, Governance, Grant, Mask
from schemas.catalog import load_catalog
from sharebus.catalog_page import render
from sharebus.catalog_site import build_site
from sharebus.cli import app
from tests.page_dom import Node, parse

SAMPLE = PROJECT_ROOT / "examples" / "governance"
CATALOG = load_catalog()
runner = CliRunner()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Node:
    out = tmp_path_factory.mktemp("site") / "catalog"
    result = runner.invoke(app, ["docs", "catalog", "--out", str(out), "--governance", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    index = out / "index.html"
    assert f"wrote {index}: {len(CATALOG)} categories" in result.stderr
    return parse(index.read_text("utf-8"))


def category(page: Node, ident: str) -> Node:
    return page.find("details", "cat", id=ident)


def field_row(block: Node, name: str) -> list[str]:
    """The cells of a field's row in a category's table, as text."""
    for row in block.find("table", "fields").find_all("tr"):
        cells = row.find_all("td")
        if cells and cells[0].text() == name:
            return [c.text() for c in cells]
    raise AssertionError(f"no row for field {name}")


def grant(block: Node, agreement: str) -> str:
    for item in block.find_all("li", "grant"):
        if agreement in item.text():
            return item.text()
    raise AssertionError(f"no grant of {agreement}")


def test_every_category_is_on_the_page_under_its_agency(page: Node) -> None:
    for agency in {c.agency for c in CATALOG}:
        section = page.find("section", "agency", id=f"agency-{agency}")
        ids = [d.attrs["id"] for d in section.find_all("details", "cat")]
        assert ids == [c.id for c in CATALOG.of_agency(agency)]
        assert f"{len(ids)} categories" in section.find("h2").text()
    trademark = category(page, "market.trademark")
    title = CATALOG.get("market.trademark").title
    assert f"{title['en']} {title['zh']}" in trademark.find("summary").text()
    assert "pub.market.trademark" in trademark.find("dl", "facts").text()


def test_a_granted_bank_its_agreement_and_a_masked_field(page: Node) -> None:
    registration = category(page, "market.registration")
    assert registration.attrs["data-banks"] == "bosc"
    head = registration.find("table", "fields").find("th", "g").text()
    assert head == "bosc bosc-risk-2026"
    # Column by column: field, type, sensitivity, description, then bosc's cell.
    id_no = field_row(registration, "legal_representative_id_no")
    assert id_no[2] == "personal 个人信息" and id_no[4] == "partial"
    assert field_row(registration, "legal_representative_name")[4] == "hash"
    assert field_row(registration, "registered_capital")[4] == "generalize"
    assert field_row(registration, "uscc")[4] == "✓"
    assert field_row(registration, "business_scope")[4] == "–"  # not granted
    text = grant(registration, "bosc-risk-2026")
    assert "Bank of Shanghai 上海银行 bosc" in text
    assert "active 2026-01-01 → 2028-01-01" in text
    assert "legal_representative_id_no partial (first 6, last 4 characters kept)" in text
    assert "Row filter none: every record" in text and "Retention 365 days" in text


def test_a_row_filter_and_fields_left_out(page: Node) -> None:
    payments = category(page, "tax.payment-record")
    assert payments.attrs["data-banks"] == "bocom bosc ccb spdb"
    text = grant(payments, "ccb-inclusive-2026")
    assert "Row filter enterprise.scale in ['MICRO', 'SMALL']" in text
    assert "Consent not required" in text
    columns = [th.text() for th in payments.find("table", "fields").find_all("th", "g")]
    ccb = 4 + columns.index("ccb ccb-inclusive-2026")
    assert field_row(payments, "voucher_no")[ccb] == "–"
    assert field_row(payments, "amount_paid")[ccb] == "✓"
    assert "Consent required" in grant(payments, "spdb-authorised-2026")
    late_fee = field_row(payments, "late_fee")
    assert late_fee[1] == "decimal(18,2) nullable"


def test_a_suspended_agreement_says_so(page: Node) -> None:
    invoices = category(page, "tax.invoice-summary")
    item = next(i for i in invoices.find_all("li", "grant") if "bosc-supply-chain" in i.text())
    assert "inactive" in item.classes
    assert "suspended" in item.find("span", "status").text()


def test_a_category_no_agency_entrusts_is_marked_so(page: Node) -> None:
    bankruptcy = category(page, "court.bankruptcy")
    assert bankruptcy.attrs["data-entrusted"] == "0"
    assert "not entrusted" in bankruptcy.find("summary").text()
    assert "no entrustment lists it" in bankruptcy.find("dl", "facts").text()
    # Granted all the same, and the page says so: the grant is there, nothing is delivered.
    assert bankruptcy.attrs["data-banks"] == "bosc"
    assert "nothing delivered: not entrusted" in grant(bankruptcy, "bosc-risk-2026")
    assert "nothing delivered" not in grant(category(page, "court.judgment"), "bosc-risk-2026")
    judgment = category(page, "court.judgment")
    assert judgment.attrs["data-entrusted"] == "1"
    court = governance_from_dir(SAMPLE).entrustments["court"]
    facts = judgment.find("dl", "facts").text()
    assert f"by the court entrustment v{court.version}, active 2026-01-01 → open-ended" in facts


def test_counts_per_agency_and_per_bank(page: Node) -> None:
    gov = governance_from_dir(SAMPLE)
    entrusted = {c for e in gov.entrustments.values() for c in e.categories}
    court = [c.id for c in CATALOG.of_agency("court")]
    card = page.find("a", "card", href="#agency-court").text()
    assert f"{len(court)} categories · {len(set(court) & entrusted)} entrusted" in card
    assert len(set(court) - entrusted) >= 1  # court.bankruptcy
    grants = 0
    for bank in gov.banks:
        cells = [c.text() for c in page.by_id(f"bank-{bank}").find_all("td")]
        views = grants_of(gov, bank)
        assert cells[2] == str(len(views))
        assert cells[3] == str(len({v.category for v in views}))
        grants += len(views)
    agreements = [a for a in gov.agreements.values() if a.status != "terminated"]
    assert page.find("p", "lede").text() == (
        f"{len(CATALOG)} categories from 8 agencies; {len(gov.banks)} banks hold "
        f"{len(agreements)} agreements with {grants} grants."
    )


def test_the_search_reads_ids_titles_docs_and_field_names(page: Node) -> None:
    grant_block = category(page, "stc.rd-grant")
    words = grant_block.attrs["data-search"]
    assert "stc.rd-grant" in words and "research grant" in words and "科研项目资助" in words
    assert "project_no" in words and "funded by the science" in words
    amount = field_row(grant_block, "amount")
    assert "meaning money: an amount in yuan" in amount[3]
    status = field_row(grant_block, "status")
    assert "APPROVED 已立项" in status[3] and status[1] == "enum"


def test_text_from_governance_is_escaped_and_chinese_marked(tmp_path: Path) -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    gov = Governance.of(
        [
            Bank(id="evil", name_en="<script>alert(1)</script>", name_zh="银行"),
            Entrustment(agency="tax", categories=["tax.arrears"], effective_from=now),
            Agreement(
                id="evil-1",
                bank="evil",
                purpose="<b>bold</b>",
                effective_from=datetime(2025, 1, 1, tzinfo=UTC),
                effective_until=datetime(2026, 1, 1, tzinfo=UTC),
                grants=[
                    Grant(
                        category="tax.arrears",
                        fields=["uscc", "status"],
                        masks={"status": Mask(kind="drop")},
                        filter="record.status == '<x>'",
                    )
                ],
            ),
        ]
    )
    html = render(build_site(CATALOG, gov, "a test", now))
    page = parse(html)
    assert "<script>alert(1)" not in html and "<b>bold</b>" not in html
    text = grant(category(page, "tax.arrears"), "evil-1")
    assert "<script>alert(1)</script>" in text and "<b>bold</b>" in text
    assert "2025-01-01 → 2026-01-01 · ended" in text
    assert "record.status == '<x>'" in text
    assert field_row(category(page, "tax.arrears"), "status")[4] == "drop"
    assert all(s.attrs.get("lang") == "zh-Hans" for s in page.find_all("span", "zh"))


def test_an_out_that_is_a_file_is_one_line_error(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("")
    result = runner.invoke(
        app, ["docs", "catalog", "--out", str(taken), "--governance", str(SAMPLE)]
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: cannot write {taken}/index.html: File exists"
