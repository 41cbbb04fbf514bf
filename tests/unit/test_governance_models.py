"""Governance models: unknown keys are errors, windows and keys, and the state they form."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from foundation.settings import PROJECT_ROOT
from governance.errors import GovernanceError
from governance.loader import governance_from_dir, load_dir
from governance.models import Agreement, Consent, Entrustment, Governance, Record, Status

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
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_the_sample_governance_loads() -> None:
    gov = governance_from_dir(PROJECT_ROOT / "examples" / "governance")
    assert {a.bank for a in gov.agreements.values()} == {"ccb", "bocom", "spdb", "bosc"}
    assert gov.agreements["ccb-inclusive-2026"].grant_for("tax.payment-record") is not None


def test_a_view_for_one_bank_decides_for_that_bank_only() -> None:
    """What backfill does: the governance narrowed to one bank, the whole left as it was."""
    gov = governance_from_dir(PROJECT_ROOT / "examples" / "governance")
    everyone = gov.active_banks()
    only = replace(gov, banks={"bocom": gov.banks["bocom"]})
    assert only.active_banks() == ["bocom"]
    assert [a.bank for a in only.agreements_of("bocom")] == [
        a.bank for a in gov.agreements_of("bocom")
    ]
    assert gov.active_banks() == everyone == ["bocom", "bosc", "ccb", "spdb"]


def test_an_unknown_key_is_an_error_not_a_silent_no_op(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(AGREEMENT + "    fileds: [enterprise_name]\n")
    assert load_dir(tmp_path).problems == [
        "a.yaml:2: grants.0.fileds: Extra inputs are not permitted"
    ]


def test_a_mask_on_a_field_not_granted_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(AGREEMENT + "    masks: {enterprise_name: {kind: hash}}\n")
    with pytest.raises(GovernanceError, match="masks on fields not granted: enterprise_name"):
        governance_from_dir(tmp_path)


def test_a_window_that_ends_before_it_starts_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(AGREEMENT.replace("2027-01-01", "2025-01-01"))
    with pytest.raises(GovernanceError, match="effective_until must be after effective_from"):
        governance_from_dir(tmp_path)


def test_a_missing_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(GovernanceError, match="governance folder not found"):
        governance_from_dir(tmp_path / "nope")


def test_instants_need_a_time_zone() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        Consent(
            uscc="x",
            bank="ccb",
            granted_at=datetime(2026, 1, 1),  # naive
            expires_at=NOW,
        )


def test_the_kind_picks_the_model() -> None:
    adapter: TypeAdapter[Agreement | Entrustment | Consent] = TypeAdapter(Record)
    record = adapter.validate_python(
        {
            "kind": "entrustment",
            "agency": "tax",
            "categories": ["tax.arrears"],
            "effective_from": NOW,
        }
    )
    assert isinstance(record, Entrustment) and record.key == "tax"
    with pytest.raises(ValidationError):
        adapter.validate_python({"kind": "entrustment", "id": "x"})


def test_keys_windows_and_coverage() -> None:
    agreement = Agreement.model_validate(
        {
            "id": "ccb-1",
            "bank": "ccb",
            "purpose": "p",
            "effective_from": NOW,
            "effective_until": NOW + timedelta(days=1),
        }
    )
    assert agreement.key == "ccb-1" and agreement.status is Status.active
    assert agreement.in_window(NOW) and not agreement.in_window(NOW + timedelta(days=1))
    with pytest.raises(ValidationError):
        Agreement.model_validate({**agreement.model_dump(), "id": "CCB 1"})

    open_ended = Entrustment(agency="tax", categories=["tax.arrears"], effective_from=NOW)
    assert open_ended.in_window(NOW + timedelta(days=3650))
    assert not open_ended.in_window(NOW - timedelta(microseconds=1))

    consent = Consent(
        uscc="91350100M000100Y43",
        bank="spdb",
        categories=["tax.arrears"],
        granted_at=NOW,
        expires_at=NOW + timedelta(days=1),
    )
    assert consent.key == "spdb:91350100M000100Y43"
    assert consent.covers("tax.arrears", NOW) and not consent.covers("tax.payment-record", NOW)
    assert not consent.covers("tax.arrears", NOW + timedelta(days=1))
    revoked = consent.model_copy(update={"revoked": True})
    assert not revoked.covers("tax.arrears", NOW)

    gov = Governance.of([agreement, open_ended, consent], version=7)
    assert gov.version == 7 and gov.agreements_of("ccb") == (agreement,)
    assert gov.agreements_of("bocom") == ()
    assert gov.consent("spdb", "91350100M000100Y43") is consent
    assert gov.entrustments == {"tax": open_ended}
