"""What scripts read: `--json` outputs that parse and agree with the catalog and the
governance folder; `--version`."""

from __future__ import annotations

import json
import shutil
from importlib.metadata import version
from pathlib import Path

from typer.testing import CliRunner

from foundation.settings import PROJECT_ROOT
from schemas.catalog import load_catalog
from sharebus.cli import app

runner = CliRunner()
CATALOG = load_catalog()
SAMPLE = PROJECT_ROOT / "examples" / "governance"


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"sharebus {version('sharebus')}"


def test_catalog_list_json_is_every_category_of_the_agency() -> None:
    result = runner.invoke(app, ["catalog", "list", "--agency", "court", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [c["id"] for c in listed] == sorted(c.id for c in CATALOG.of_agency("court"))
    assert all(c["topic"] == f"pub.{c['id']}" and c["fields"] > 2 for c in listed)
    everything = json.loads(runner.invoke(app, ["catalog", "list", "--json"]).stdout)
    assert len(everything) == len(CATALOG)


def test_catalog_show_gives_types_with_decimal_precision() -> None:
    result = runner.invoke(app, ["catalog", "show", "tax.payment-record", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    fields = {f["name"]: f for f in shown["fields"]}
    assert fields["amount_paid"]["type"] == "decimal(18,2)"
    assert fields["late_fee"]["optional"] is True and fields["uscc"]["optional"] is False
    text = runner.invoke(app, ["catalog", "show", "tax.payment-record"]).stdout
    assert "amount_paid" in text and "decimal(18,2)" in text
    unknown = runner.invoke(app, ["catalog", "show", "tax.nope"])
    assert unknown.exit_code == 2


def test_catalog_says_the_title_and_what_each_field_means() -> None:
    shown = json.loads(runner.invoke(app, ["catalog", "show", "stc.rd-grant", "--json"]).stdout)
    assert shown["title"] == {"en": "Research grant", "zh": "科研项目资助"}
    meanings = {f["name"]: f["meaning"] for f in shown["fields"]}
    assert meanings["amount"] == "money" and meanings["end_on"] == "end-date"
    lines = runner.invoke(app, ["catalog", "show", "stc.rd-grant"]).stdout.splitlines()
    assert lines[1] == "Research grant 科研项目资助"
    amount = next(line.split() for line in lines if line.split()[:1] == ["amount"])
    assert amount[:5] == ["amount", "decimal(18,2)", "required", "public", "money"]
    listed = json.loads(runner.invoke(app, ["catalog", "list", "--agency", "stc", "--json"]).stdout)
    assert next(c for c in listed if c["id"] == "stc.rd-grant")["title"] == shown["title"]
    text = runner.invoke(app, ["catalog", "list", "--agency", "stc"]).stdout
    assert "10 fields  Research grant 科研项目资助: A research project" in text


def test_governance_validate_json_lists_every_problem(tmp_path: Path) -> None:
    good = runner.invoke(app, ["governance", "validate", str(SAMPLE), "--json"])
    assert good.exit_code == 0, good.output
    verdict = json.loads(good.stdout)
    assert verdict["valid"] is True and verdict["problems"] == []
    assert verdict["records"]["agreement"] >= 1

    broken = tmp_path / "gov"
    shutil.copytree(SAMPLE, broken)
    target = next((broken / "agreements").glob("*.yaml"))
    target.write_text(target.read_text() + "\nunknown_key: 1\n")
    bad = runner.invoke(app, ["governance", "validate", str(broken), "--json"])
    assert bad.exit_code == 1
    problems = json.loads(bad.stdout)["problems"]
    assert problems and any(target.name in p for p in problems)
