"""Loading and validating governance folders: every problem found, each said clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from foundation.settings import PROJECT_ROOT
from governance.errors import GovernanceError
from governance.loader import governance_from_dir, load_dir
from governance.validate import validate
from schemas.catalog import load_catalog

SAMPLE = PROJECT_ROOT / "examples" / "governance"
CATALOG = load_catalog()

WINDOW = "effective_from: 2026-01-01T00:00:00+08:00\neffective_until: 2028-01-01T00:00:00+08:00\n"
TAX = "kind: entrustment\nagency: tax\neffective_from: 2026-01-01T00:00:00+08:00\n"


def agreement(grants: str, id_: str = "ccb-x", bank: str = "ccb", extra: str = "") -> str:
    return f"kind: agreement\nid: {id_}\nbank: {bank}\npurpose: p\n{WINDOW}{extra}grants:\n{grants}"


PAYMENTS = "  - category: tax.payment-record\n    fields: [uscc, amount_paid]\n"


def consent(uscc: str = "91350100M000100Y43", bank: str = "spdb", extra: str = "") -> str:
    return (
        f"kind: consent\nuscc: '{uscc}'\nbank: {bank}\n"
        f"granted_at: 2026-01-01T00:00:00+08:00\nexpires_at: 2027-01-01T00:00:00+08:00\n{extra}"
    )


PARTIES = "\n---\n".join(
    (SAMPLE / "parties" / name).read_text("utf-8") for name in ("banks.yaml", "agencies.yaml")
)


def problems(tmp_path: Path, **files: str) -> list[str]:
    files = {"parties_yaml": PARTIES, **files}
    for name, text in files.items():
        path = tmp_path / name.replace("__", "/").replace("_", ".", 1)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    loaded = load_dir(tmp_path)
    return loaded.problems + validate(loaded, CATALOG)


def only(found: list[str]) -> str:
    assert len(found) == 1, found
    return found[0]


def test_the_sample_governance_has_no_problems() -> None:
    loaded = load_dir(SAMPLE)
    assert loaded.problems == [] and validate(loaded, CATALOG) == []
    gov = governance_from_dir(SAMPLE)
    assert "court.bankruptcy" not in gov.entrustments["court"].categories
    entrusted = {c for e in gov.entrustments.values() for c in e.categories}
    assert entrusted == set(CATALOG.ids) - {"court.bankruptcy"}
    assert len(gov.consents) > 300


def test_a_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    found = only(problems(tmp_path, a_yaml="kind: agreement\nid: [unclosed\nbank: ccb\n"))
    assert found.startswith("a.yaml:") and "not valid YAML" in found
    line = int(found.split(":")[1])
    assert line in (2, 3, 4)


def test_pydantic_errors_are_one_per_field_with_file_line_and_location(tmp_path: Path) -> None:
    text = agreement(PAYMENTS + "    fileds: [x]\n", extra="colour: red\n").replace(
        "purpose: p\n", ""
    )
    found = problems(tmp_path, agreements__a_yaml="# a comment\n" + text)
    assert sorted(found) == [
        "agreements/a.yaml:2: colour: Extra inputs are not permitted",
        "agreements/a.yaml:2: grants.0.fileds: Extra inputs are not permitted",
        "agreements/a.yaml:2: purpose: Field required",
    ]


def test_kind_is_required_and_must_be_known(tmp_path: Path) -> None:
    found = problems(tmp_path, a_yaml="id: x\n---\nkind: agrement\nid: y\n---\n- a list\n")
    assert found == [
        "a.yaml:1: kind is required: bank, agency, entrustment, agreement, consent",
        "a.yaml:3: unknown kind 'agrement': bank, agency, entrustment, agreement, consent",
        "a.yaml:6: a document must be a mapping (a record)",
    ]


def test_a_key_written_twice_is_an_error(tmp_path: Path) -> None:
    text = agreement(PAYMENTS + "    fields: [uscc]\n")
    assert only(problems(tmp_path, a_yaml=text)) == "a.yaml:10: key 'fields' appears twice"


def test_unknown_category_field_and_bank(tmp_path: Path) -> None:
    grants = (
        "  - category: tax.nope\n    fields: [uscc]\n"
        "  - category: tax.payment-record\n    fields: [uscc, amount]\n"
    )
    found = problems(tmp_path, a_yaml=agreement(grants, bank="icbc"))
    assert found == [
        "a.yaml:1: unknown bank 'icbc' in agreement ccb-x (bocom, bosc, ccb, spdb)",
        "a.yaml:1: unknown category 'tax.nope' in grant of agreement ccb-x",
        "a.yaml:1: grant tax.payment-record of agreement ccb-x:"
        " tax.payment-record has no field 'amount'",
    ]


def test_a_category_granted_twice_and_a_field_granted_twice(tmp_path: Path) -> None:
    grants = PAYMENTS + "  - category: tax.payment-record\n    fields: [uscc, uscc]\n"
    assert problems(tmp_path, a_yaml=agreement(grants)) == [
        "a.yaml:1: agreement ccb-x grants tax.payment-record twice",
        "a.yaml:1: grant tax.payment-record of agreement ccb-x: field 'uscc' is granted twice",
    ]


def test_a_mask_on_a_field_not_granted(tmp_path: Path) -> None:
    grants = PAYMENTS + "    masks: {tax_office: {kind: hash}}\n"
    assert only(problems(tmp_path, a_yaml=agreement(grants))) == (
        "a.yaml:1: grants.0: masks on fields not granted: tax_office"
    )


def test_generalize_on_a_field_that_has_no_month_or_band(tmp_path: Path) -> None:
    grants = (
        "  - category: tax.payment-record\n    fields: [uscc, amount_paid, paid_at, tax_office]\n"
        "    masks: {amount_paid: {kind: generalize}, paid_at: {kind: generalize},"
        " tax_office: {kind: generalize}}\n"
    )
    assert only(problems(tmp_path, a_yaml=agreement(grants))) == (
        "a.yaml:1: grant tax.payment-record of agreement ccb-x: cannot generalize 'tax_office'"
        " (only dates, instants and numbers can be)"
    )


def test_a_filter_that_does_not_compile_says_where(tmp_path: Path) -> None:
    grants = PAYMENTS + "    filter: 'record.amount_paid >= '\n"
    found = only(problems(tmp_path, a_yaml=agreement(grants)))
    assert found.startswith(
        "a.yaml:1: filter of ccb-x grant tax.payment-record: line 1, column 23: Syntax error: "
    )


def test_a_filter_that_reads_what_no_filter_sees(tmp_path: Path) -> None:
    grants = (
        PAYMENTS + "    filter: \"recrod.x == 1 || record.amount > 1.0 || enterprise.size == 'M'"
        " || record.tax_office == 'record.nope'\"\n"
    )
    where = "a.yaml:1: filter of ccb-x grant tax.payment-record"
    assert problems(tmp_path, a_yaml=agreement(grants)) == [
        f"{where}: unknown variable 'recrod' (a filter sees record, op, enterprise)",
        f"{where}: the record has no field 'amount'",
        f"{where}: the enterprise profile has no field 'size'"
        " (scale, district, industry_code, status, established_on)",
    ]


def test_entrustment_problems(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        tax_yaml=TAX + "categories: [tax.arrears, hrss.social-insurance, tax.nope, tax.arrears]\n",
        mint_yaml=TAX.replace("tax", "mint") + "categories: [tax.arrears]\n",
    )
    assert found == [
        "mint.yaml:1: unknown agency 'mint' in entrustment"
        " (court, ecology, housing, hrss, market, planning, stc, tax)",
        "mint.yaml:1: category 'tax.arrears' in entrustment of mint belongs to agency tax",
        "tax.yaml:1: entrustment of tax lists tax.arrears twice",
        "tax.yaml:1: category 'hrss.social-insurance' in entrustment of tax belongs to agency hrss",
        "tax.yaml:1: unknown category 'tax.nope' in entrustment of tax",
    ]


def test_overlapping_windows_of_one_bank_for_one_category(tmp_path: Path) -> None:
    later = agreement(PAYMENTS, id_="ccb-y").replace("2026-01-01", "2027-06-01")
    after = agreement(PAYMENTS, id_="ccb-z").replace("2026-01-01", "2028-01-01")
    after = after.replace("2028-01-01T00:00:00+08:00\ngrants", "2029-01-01T00:00:00+08:00\ngrants")
    ended = agreement(PAYMENTS, id_="ccb-t", extra="status: terminated\n")
    other_bank = agreement(PAYMENTS, id_="bocom-x", bank="bocom")
    found = problems(
        tmp_path,
        a_yaml=agreement(PAYMENTS),
        b_yaml=later,
        c_yaml=after,  # starts when a's window ends: no overlap
        d_yaml=ended,  # terminated: does not count
        e_yaml=other_bank,
    )
    assert found == [
        "b.yaml:1: agreements ccb-x (a.yaml:1) and ccb-y of ccb both grant"
        " tax.payment-record in overlapping windows"
    ]


def test_duplicate_keys_across_files(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        a_yaml=agreement(PAYMENTS),
        b_yaml=agreement("  - category: tax.arrears\n    fields: [uscc]\n"),
        c_yaml=consent() + "---\n" + consent(),
    )
    assert found == [
        "b.yaml:1: duplicate agreement 'ccb-x' (also in a.yaml:1)",
        "c.yaml:7: duplicate consent 'spdb:91350100M000100Y43' (also in c.yaml:1)",
    ]


def test_consent_problems(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        a_yaml=consent(bank="icbc", extra="categories: [tax.nope]\n")
        + "---\n"
        + consent(uscc="91350100M000100Y44").replace("2027-01-01", "2025-01-01"),
    )
    assert found == [
        "a.yaml:1: consent icbc:91350100M000100Y43: unknown bank 'icbc' (bocom, bosc, ccb, spdb)",
        "a.yaml:1: consent icbc:91350100M000100Y43: unknown category 'tax.nope'",
        "a.yaml:8: consent spdb:91350100M000100Y44: invalid USCC:"
        " '91350100M000100Y44' has check character 4, expected 3",
        "a.yaml:8: consent spdb:91350100M000100Y44: expires_at must be after granted_at",
    ]


def test_an_invalid_folder_raises_with_every_problem_listed(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(agreement(PAYMENTS, bank="icbc") + "    fileds: [x]\n")
    (tmp_path / "b.yml").write_text(TAX + "categories: [tax.nope]\n")
    (tmp_path / "c.yaml").write_text("kind: consent\nuscc: [\n")
    (tmp_path / "notes.txt").write_text("not governance: ignored")
    (tmp_path / "parties.yaml").write_text(PARTIES)
    with pytest.raises(GovernanceError) as caught:
        governance_from_dir(tmp_path, CATALOG)
    lines = str(caught.value).splitlines()
    assert lines[0] == f"3 problems in governance {tmp_path}:"
    assert lines[1] == "a.yaml:1: grants.0.fileds: Extra inputs are not permitted"
    assert lines[2].startswith("c.yaml:") and "not valid YAML" in lines[2]
    assert lines[3] == "b.yml:1: unknown category 'tax.nope' in entrustment of tax"


def test_a_valid_folder_becomes_a_governance(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "parties.yaml").write_text(PARTIES)
    (tmp_path / "x" / "all.yaml").write_text(
        TAX + "categories: [tax.payment-record]\n---\n" + agreement(PAYMENTS) + "---\n" + consent()
    )
    gov = governance_from_dir(tmp_path, version=3)
    assert gov.version == 3
    assert set(gov.entrustments) == {"tax"} and set(gov.agreements) == {"ccb-x"}
    assert set(gov.consents) == {"spdb:91350100M000100Y43"}


def test_a_filter_that_would_fail_at_run_time_is_refused_with_file_and_line(
    tmp_path: Path,
) -> None:
    grant = PAYMENTS + "    filter: record.late_fee > 100.0\n"
    found = only(problems(tmp_path, a_yaml=agreement(grant.replace("amount_paid]", "late_fee]"))))
    assert found.startswith("a.yaml:1: filter of ccb-x grant tax.payment-record: fails on")
    assert "record.late_fee is null" in found
