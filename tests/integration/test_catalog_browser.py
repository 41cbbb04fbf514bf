"""The catalog page in a real browser, Debian's chromium headless: the page's script runs
from file:// without an error, and a search in the address filters the categories as a
reader would see them. No Kafka: the page is built from the sample governance folder (and,
at the programme's scale, from a catalog of 330 categories with 1,320 grants)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from foundation.settings import PROJECT_ROOT
from governance.loader import governance_from_dir
from governance.models import Agreement, Bank, Entrustment, Governance, Grant, Mask, Status
from schemas.catalog import Catalog, load_catalog, parse_category
from sharebus.catalog_page import render
from sharebus.catalog_site import build_site
from tests.integration.conftest import sharebus
from tests.page_dom import Node, parse

SAMPLE = PROJECT_ROOT / "examples" / "governance"
# Without the networking switches chromium waits on services a closed network never answers.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=3000",
    # The page's console on stderr: an uncaught error shows there too.
    "--enable-logging=stderr",
    "--v=0",
]


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed: run `make deps` (it installs Debian's chromium)")
    return found


def open_page(url: str, profile: Path) -> Node:
    """The page's DOM once its script has run, checked to have run to its end cleanly."""
    done = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    page = parse(done.stdout)
    root = page.find("html")
    assert "data-js-errors" not in root.attrs, root.attrs["data-js-errors"]
    assert "Uncaught" not in done.stderr, done.stderr[-2000:]
    page.by_id("catalog-ready")  # written by the script's last lines
    return page


def shown(page: Node) -> list[str]:
    return [d.attrs["id"] for d in page.find_all("details", "cat") if not d.hidden]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("catalog")
    result = sharebus(
        dict(os.environ),
        "docs",
        "catalog",
        "--out",
        str(out),
        "--governance",
        "examples/governance",
    )
    assert result.returncode == 0, result.stderr
    return out / "index.html"


def test_a_search_in_the_address_shows_what_matches_and_hides_the_rest(
    site: Path, tmp_path: Path
) -> None:
    page = open_page(f"{site.as_uri()}#q=trademark", tmp_path / "profile")
    everything = page.find_all("details", "cat")
    expected = [d.attrs["id"] for d in everything if "trademark" in d.attrs["data-search"]]
    assert "market.trademark" in expected and len(expected) < len(everything)
    assert shown(page) == expected
    assert page.by_id("tax.payment-record").hidden
    # A search down to three categories or fewer shows them open.
    assert ("open" in page.by_id("market.trademark").attrs) == (len(expected) <= 3)
    assert page.by_id("shown").text() == f"{len(expected)} of {len(everything)} categories"
    assert page.by_id("overview").hidden
    assert page.by_id("agency-tax").hidden and not page.by_id("agency-market").hidden


def test_a_query_string_and_a_bank_narrow_together(site: Path, tmp_path: Path) -> None:
    page = open_page(f"{site.as_uri()}?q=penalty&bank=bosc", tmp_path / "profile")
    granted = {
        g.category for a in governance_from_dir(SAMPLE).agreements_of("bosc") for g in a.grants
    }
    expected = [
        d.attrs["id"]
        for d in page.find_all("details", "cat")
        if "penalty" in d.attrs["data-search"] and d.attrs["id"] in granted
    ]
    assert "market.penalty" in expected and "ecology.penalty" not in granted
    assert shown(page) == expected


def test_a_link_to_a_category_opens_it_and_hides_nothing(site: Path, tmp_path: Path) -> None:
    page = open_page(f"{site.as_uri()}#court.bankruptcy", tmp_path / "profile")
    assert "open" in page.by_id("court.bankruptcy").attrs
    assert len(shown(page)) == len(load_catalog())
    assert not page.by_id("overview").hidden


def test_a_mistyped_address_is_no_error(site: Path, tmp_path: Path) -> None:
    page = open_page(f"{site.as_uri()}#tax%", tmp_path / "profile")
    assert len(shown(page)) == len(load_catalog())


def scaled(total: int) -> tuple[Catalog, Governance]:
    """A catalog of `total` categories (the shipped ones again and again under new names,
    `-k0`, `-k1`...), every one granted to four banks under three agreements each (personal
    fields hashed, every other one filtered), one category in seven left out of its
    agency's entrustment."""
    base = list(load_catalog())
    categories = {}
    for i in range(total):
        c = base[i % len(base)]
        clone = parse_category(c.agency, f"{c.dataset}-k{i // len(base)}", json.dumps(c.record))
        categories[clone.id] = clone
    catalog = Catalog(categories)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    records: list[Bank | Entrustment | Agreement] = []
    for agency in {c.agency for c in catalog}:
        mine = [c.id for i, c in enumerate(catalog.of_agency(agency)) if i % 7]
        records.append(Entrustment(agency=agency, categories=mine, effective_from=start))
    for bank in ("ccb", "bocom", "spdb", "bosc"):
        records.append(Bank(id=bank, name_en=f"Bank {bank}", name_zh="银行"))
        for j in range(3):
            grants = [
                Grant(
                    category=c.id,
                    fields=list(c.field_names),
                    masks={
                        f.name: Mask(kind="hash") for f in c.fields if f.sensitivity == "personal"
                    },
                    filter="enterprise.scale in ['MICRO', 'SMALL']" if i % 2 else None,
                )
                for i, c in enumerate(catalog)
                if i % 3 == j
            ]
            records.append(
                Agreement(
                    id=f"{bank}-{j}",
                    bank=bank,
                    purpose="credit-assessment",
                    status=Status.suspended if j == 2 else Status.active,
                    effective_from=start,
                    effective_until=datetime(2028, 1, 1, tzinfo=UTC),
                    grants=grants,
                )
            )
    return catalog, Governance.of(records)


def test_the_page_at_the_programme_scale_still_searches(tmp_path: Path) -> None:
    catalog, gov = scaled(330)
    site = build_site(catalog, gov, "a test", datetime(2026, 6, 1, tzinfo=UTC))
    assert len(site.categories) >= 300 and site.grant_count >= 1000
    index = tmp_path / "index.html"
    index.write_text(render(site), encoding="utf-8")
    page = open_page(f"{index.as_uri()}#q=payment-record-k0", tmp_path / "profile")
    assert shown(page) == ["tax.payment-record-k0"]
    assert "open" in page.by_id("tax.payment-record-k0").attrs
    total = len(site.categories)
    assert page.by_id("shown").text() == f"1 of {total} categories"
    grants = page.by_id("tax.payment-record-k0").find_all("li", "grant")
    assert len(grants) == 4
