from pathlib import Path

import pytest

from governance.errors import GovernanceError
from governance.loader import load_dir
from sharebus.settings import PROJECT_ROOT

AGREEMENT = """
kind: agreement
id: t-1
bank: ccb
purpose: p
effective_from: 2026-01-01T00:00:00Z
effective_until: 2027-01-01T00:00:00Z
grants:
  - category: tax.payment-record
    fields: [uscc]
"""


def test_the_sample_governance_loads() -> None:
    agreements = load_dir(PROJECT_ROOT / "examples" / "governance")
    assert {a.bank for a in agreements} >= {"ccb"}


def test_an_unknown_key_is_an_error_not_a_silent_no_op(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(AGREEMENT + "    fileds: [enterprise_name]\n")
    with pytest.raises(GovernanceError, match=r"a.yaml: grants.0.fileds: Extra inputs"):
        load_dir(tmp_path)


def test_a_mask_on_a_field_not_granted_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(AGREEMENT + "    masks: {enterprise_name: {kind: hash}}\n")
    with pytest.raises(GovernanceError, match="masks on fields not granted: enterprise_name"):
        load_dir(tmp_path)


def test_a_window_that_ends_before_it_starts_is_an_error(tmp_path: Path) -> None:
    text = AGREEMENT.replace("2027-01-01", "2025-01-01")
    (tmp_path / "a.yaml").write_text(text)
    with pytest.raises(GovernanceError, match="effective_until must be after effective_from"):
        load_dir(tmp_path)


def test_a_missing_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(GovernanceError, match="governance folder not found"):
        load_dir(tmp_path / "nope")
