"""The plan of `governance apply`: every record added, changed, ended or left, and a
consent ledger that no folder can rewrite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from foundation.settings import PROJECT_ROOT
from governance.loader import governance_from_dir
from governance.models import (
    Consent,
    Governance,
    PartyStatus,
    Status,
    fold_consent,
)
from governance.reconcile import consent_event, grant_id_of, plan

SAMPLE = governance_from_dir(PROJECT_ROOT / "examples" / "governance")
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def in_force_after(desired: Governance, in_force: Governance) -> Governance:
    """What the cluster holds once the plan of `desired` is written: the feed's fold."""
    result = plan(desired, in_force, NOW)
    assert not result.problems, result.problems
    records = {**in_force.agreements}
    entrustments = {**in_force.entrustments}
    banks, agencies = {**in_force.banks}, {**in_force.agencies}
    consents, grants = dict(in_force.consents), dict(in_force.consent_grants)
    grant_ids = set(in_force.grant_ids)
    for change in result.changes:
        r = change.record
        if r.kind == "agreement":
            records[r.key] = r  # type: ignore[assignment]
        elif r.kind == "entrustment":
            entrustments[r.key] = r  # type: ignore[assignment]
        elif r.kind == "bank":
            banks[r.key] = r  # type: ignore[assignment]
        elif r.kind == "agency":
            agencies[r.key] = r  # type: ignore[assignment]
        else:
            folded = fold_consent(consents.get(r.key), r)  # type: ignore[arg-type]
            if folded is not None:
                consents[r.key] = folded
            if r.action == "grant":  # type: ignore[union-attr]
                grants[r.key] = r  # type: ignore[assignment]
                grant_ids.add(r.grant_id)  # type: ignore[union-attr]
    return Governance(
        entrustments=entrustments,
        agreements=records,
        consents=consents,
        banks=banks,
        agencies=agencies,
        consent_grants=grants,
        grant_ids=frozenset(grant_ids),
    )


def test_a_first_apply_adds_everything_and_a_second_changes_nothing() -> None:
    first = plan(SAMPLE, Governance(), NOW)
    counts = first.counts()
    assert counts["add"] == len(SAMPLE.agreements) + len(SAMPLE.entrustments) + 12
    assert counts["grant"] == len(SAMPLE.consents)
    # The folder's revoked consents are recorded as granted, then revoked.
    assert counts["revoke"] == sum(c.revoked for c in SAMPLE.consents.values())
    applied = in_force_after(SAMPLE, Governance())
    again = plan(SAMPLE, applied, NOW)
    assert again.changes == [] and again.problems == []
    assert again.unchanged == len(SAMPLE.agreements) + len(SAMPLE.entrustments) + 12 + len(
        SAMPLE.consents
    )


def test_a_record_no_longer_in_the_folder_is_ended_not_left_in_force() -> None:
    applied = in_force_after(SAMPLE, Governance())
    agreements = {k: v for k, v in SAMPLE.agreements.items() if k != "bocom-working-capital-2026"}
    banks = {k: v for k, v in SAMPLE.banks.items() if k != "bosc"}
    smaller = Governance(
        entrustments=SAMPLE.entrustments,
        agreements=agreements,
        consents=SAMPLE.consents,
        banks=banks,
        agencies=SAMPLE.agencies,
    )
    result = plan(smaller, applied, NOW)
    ended = {(c.kind, c.key): c.record for c in result.changes if c.action == "end"}
    bocom = ended[("agreement", "bocom-working-capital-2026")]
    assert bocom.status is Status.terminated  # type: ignore[union-attr]
    assert ended[("bank", "bosc")].status is PartyStatus.retired  # type: ignore[union-attr]
    # Ended once: applying the same folder again changes nothing more.
    assert plan(smaller, in_force_after(smaller, applied), NOW).changes == []


def test_changed_terms_need_a_higher_version_and_versions_never_go_down() -> None:
    applied = in_force_after(SAMPLE, Governance())
    ccb = SAMPLE.agreements["ccb-inclusive-2026"]
    purpose = ccb.model_copy(update={"purpose": "something else"})
    changed = Governance.of([*SAMPLE.agreements.values(), purpose, *_rest()])
    problems = plan(changed, applied, NOW).problems
    assert problems == [
        "agreement ccb-inclusive-2026 (in force v1, folder v1): its terms changed but its"
        " version did not: raise `version`"
    ]
    bumped = purpose.model_copy(update={"version": 2})
    ok = plan(Governance.of([*SAMPLE.agreements.values(), bumped, *_rest()]), applied, NOW)
    assert [(c.action, c.key, c.detail) for c in ok.changes] == [
        ("change", "ccb-inclusive-2026", "v1 -> v2")
    ]
    later = in_force_after(Governance.of([*SAMPLE.agreements.values(), bumped, *_rest()]), applied)
    down = plan(SAMPLE, later, NOW).problems
    assert down == ["agreement ccb-inclusive-2026 (in force v2, folder v1): versions only go up"]


def test_suspending_and_reinstating_keep_the_version_but_a_terminated_one_needs_a_new_one() -> None:
    applied = in_force_after(SAMPLE, Governance())
    ccb = SAMPLE.agreements["ccb-inclusive-2026"]
    suspended = ccb.model_copy(update={"status": Status.suspended})
    folder = Governance.of([*SAMPLE.agreements.values(), suspended, *_rest()])
    result = plan(folder, applied, NOW)
    assert [(c.action, c.detail) for c in result.changes] == [
        ("change", "v1 -> v1, active -> suspended")
    ]
    terminated = ccb.model_copy(update={"status": Status.terminated})
    ended = in_force_after(
        Governance.of([*SAMPLE.agreements.values(), terminated, *_rest()]), applied
    )
    back = plan(SAMPLE, ended, NOW).problems
    assert back == [
        "agreement ccb-inclusive-2026 (in force v1, folder v1): a terminated agreement"
        " comes back only under a new version"
    ]


def test_a_revoked_consent_stays_revoked_when_the_folder_is_applied_again() -> None:
    applied = in_force_after(SAMPLE, Governance())
    key, consent = next((k, c) for k, c in applied.consents.items() if not c.revoked)
    grant = applied.consent_grants[key]
    revoked = fold_consent(consent, consent_event("revoke", consent, grant.grant_id, "cli", NOW))
    assert revoked is not None and revoked.revoked
    after_cli = Governance(
        entrustments=applied.entrustments,
        agreements=applied.agreements,
        consents={**applied.consents, key: revoked},
        banks=applied.banks,
        agencies=applied.agencies,
        consent_grants=applied.consent_grants,
        grant_ids=applied.grant_ids,
    )
    result = plan(SAMPLE, after_cli, NOW)
    assert [c for c in result.changes if c.key == key] == []
    # Re-granting is an explicit new grant, with another identity.
    regrant = consent.model_copy(update={"expires_at": consent.expires_at + timedelta(days=1)})
    assert grant_id_of(regrant) != grant.grant_id


def test_a_consent_from_a_file_that_is_removed_is_revoked_but_cli_grants_are_not_touched() -> None:
    applied = in_force_after(SAMPLE, Governance())
    cli_consent = Consent(
        uscc="91310000MA1FL0001A",
        bank="ccb",
        granted_at=NOW,
        expires_at=NOW + timedelta(days=30),
    )
    cli_grant = consent_event("grant", cli_consent, "cli-1", "cli", NOW)
    with_cli = Governance(
        entrustments=applied.entrustments,
        agreements=applied.agreements,
        consents={**applied.consents, cli_consent.key: cli_consent},
        banks=applied.banks,
        agencies=applied.agencies,
        consent_grants={**applied.consent_grants, cli_consent.key: cli_grant},
        grant_ids=applied.grant_ids | {"cli-1"},
    )
    dropped_key = next(k for k, c in SAMPLE.consents.items() if not c.revoked)
    folder = Governance.of(
        [*_rest(consents=False), *SAMPLE.agreements.values()]
        + [c for k, c in SAMPLE.consents.items() if k != dropped_key]
    )
    result = plan(folder, with_cli, NOW)
    assert [(c.action, c.key, c.detail) for c in result.changes] == [
        ("revoke", dropped_key, "not in the folder")
    ]


def _rest(consents: bool = True) -> list:  # type: ignore[type-arg]
    """The sample's records other than agreements (and, unless told, its consents)."""
    rest = [*SAMPLE.entrustments.values(), *SAMPLE.banks.values(), *SAMPLE.agencies.values()]
    return rest + (list(SAMPLE.consents.values()) if consents else [])
