"""Governance on the real stack: changes take effect without a restart, bad input changes
nothing, and `sharebus explain` says why."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from foundation.settings import KafkaSettings
from governance.loader import governance_from_dir
from governance.models import Status
from producers.coerce import to_json
from producers.publisher import Publisher
from schemas import names
from schemas.catalog import load_catalog
from sharebus.governance_log import read_current, write
from synthetic.generate import Enterprise, population, records
from tests.integration.conftest import (
    GOVERNANCE,
    Endpoints,
    WorkerProcess,
    apply_sample,
    run_cli,
)
from tests.integration.reading import audit_until, decoded, end_offsets, header, read_since

CATALOG = load_catalog()
PAYMENT = CATALOG.get("tax.payment-record")


@pytest.fixture
def restore_governance(kafka_settings: KafkaSettings, sample_governance: int) -> Iterator[None]:
    yield
    apply_sample(kafka_settings)


def enterprise(scale: str, seed: int) -> Enterprise:
    return next(e for e in population(300, seed=seed) if e.scale == scale)


def publish_and_audit(
    settings: KafkaSettings, category: str, ent: Enterprise, op: str = "c"
) -> dict[str, dict[str, object]]:
    """Publish one record of `ent`; return the audit decision of each bank for it."""
    start = end_offsets(settings, names.AUDIT)
    record = next(records(CATALOG.get(category), [ent], 1))
    with Publisher(agency=category.split(".")[0], settings=settings) as pub:
        event_id = pub.publish(category, op, ent.uscc, after=record)
    return {a["bank"]: a for a in audit_until(settings, start, {event_id})}


def test_suspension_and_reinstatement_take_effect_without_restart(
    kafka_settings: KafkaSettings,
    sample_governance: int,
    worker: WorkerProcess,
    restore_governance: None,
    unique: str,
) -> None:
    worker.wait_governance(sample_governance)
    ent = enterprise("MICRO", int(unique, 16) % 10_000)
    assert publish_and_audit(kafka_settings, "market.registration", ent)["bosc"]
    assert (
        publish_and_audit(kafka_settings, "tax.payment-record", ent)["ccb"]["reason"] == "delivered"
    )

    gov = governance_from_dir(GOVERNANCE)
    ccb = gov.agreements["ccb-inclusive-2026"]
    suspended = write([ccb.model_copy(update={"status": Status.suspended})], kafka_settings)
    worker.wait_governance(suspended)
    bank_start = end_offsets(kafka_settings, "bank.ccb.tax.payment-record")
    decision = publish_and_audit(kafka_settings, "tax.payment-record", ent)["ccb"]
    assert decision["reason"] == "suspended" and decision["decision"] == "denied"
    assert decision["governance_version"] >= suspended
    leaked = read_since(kafka_settings, bank_start, lambda m: False, timeout=3)
    assert decision["event_id"] not in {header(m, "ce_id") for m in leaked}, (
        "a suspended bank got it"
    )

    reinstated = write([ccb], kafka_settings)
    worker.wait_governance(reinstated)
    assert (
        publish_and_audit(kafka_settings, "tax.payment-record", ent)["ccb"]["reason"] == "delivered"
    )
    assert worker.alive()


def test_consent_revocation_stops_deliveries_and_a_folder_apply_keeps_it_revoked(
    endpoints: Endpoints,
    kafka_settings: KafkaSettings,
    sample_governance: int,
    worker: WorkerProcess,
    restore_governance: None,
    unique: str,
) -> None:
    worker.wait_governance(sample_governance)
    # An enterprise of its own, consenting through the CLI: no other test depends on it.
    ent = enterprise("SMALL", int(unique, 16) % 10_000 + 20_000)
    granted = run_cli(endpoints, "consent", "grant", "--bank", "spdb", "--uscc", ent.uscc)
    assert granted.returncode == 0, granted.stderr
    worker.wait_governance(version_in(granted.stdout))
    category = "tax.payment-record"
    assert publish_and_audit(kafka_settings, category, ent)["spdb"]["reason"] == "delivered"

    bank_topic = names.bank_topic("spdb", category)
    bank_start = end_offsets(kafka_settings, bank_topic)
    revoke = run_cli(endpoints, "consent", "revoke", "--bank", "spdb", "--uscc", ent.uscc)
    assert revoke.returncode == 0, revoke.stderr
    revoked_at = version_in(revoke.stdout)
    worker.wait_governance(revoked_at)

    # The withdrawal reaches the bank: a delete naming the reason, then a tombstone.
    def retracted(msgs: list) -> bool:  # type: ignore[type-arg]
        ours = [m for m in msgs if m.key() == ent.uscc.encode()]
        return any(m.value() is None for m in ours)

    got = [
        m
        for m in read_since(kafka_settings, bank_start, retracted, timeout=60)
        if m.key() == ent.uscc.encode()
    ]
    assert [m.value() is None for m in got] == [False, True], "a delete, then a tombstone"
    assert header(got[0], "sharebus_retraction") == "consent-revoked"
    assert header(got[0], "sharebus_governance_version") == str(revoked_at)
    (retraction,) = decoded(kafka_settings, got[:1])
    assert retraction["op"] == "d" and retraction["before"] is None and retraction["after"] is None

    after = publish_and_audit(kafka_settings, category, ent)["spdb"]
    assert after["reason"] == "no-consent" and after["decision"] == "denied"

    # The folder and the ledger never fight: applying the folder again keeps it revoked.
    applied = run_cli(endpoints, "governance", "apply", str(GOVERNANCE))
    assert applied.returncode == 0, applied.stderr
    assert "consent(s) to grant" in applied.stdout
    listed = run_cli(endpoints, "consent", "list", "--uscc", ent.uscc, "--json")
    assert json.loads(listed.stdout)["state"] == "revoked", listed.stdout
    worker.wait_governance(read_current(kafka_settings).version)
    again = publish_and_audit(kafka_settings, category, ent)["spdb"]
    assert again["reason"] == "no-consent"


def version_in(stdout: str) -> int:
    return int(stdout.split("governance version ")[1].split(")")[0])


def test_bad_governance_changes_nothing_and_says_why(
    endpoints: Endpoints, kafka_settings: KafkaSettings, sample_governance: int, tmp_path: Path
) -> None:
    bad = tmp_path / "gov"
    bad.mkdir()
    (bad / "a.yaml").write_text(
        "kind: agreement\nid: x-1\nbank: nobank\npurpose: p\n"
        "effective_from: 2026-01-01T00:00:00Z\neffective_until: 2027-01-01T00:00:00Z\n"
        "grants:\n  - category: tax.nope\n    fields: [uscc]\n    filter: 'record.x >'\n"
    )
    before = {t: end_offsets(kafka_settings, t) for t in names.GOVERNANCE_TOPICS}
    result = run_cli(endpoints, "governance", "apply", str(bad))
    assert result.returncode == 1
    assert "nobank" in result.stderr and "tax.nope" in result.stderr
    assert "Traceback" not in result.stderr
    after = {t: end_offsets(kafka_settings, t) for t in before}
    assert [[tp.offset for tp in v] for v in after.values()] == [
        [tp.offset for tp in v] for v in before.values()
    ], "nothing may be written when anything is invalid"


def test_explain_says_why(
    endpoints: Endpoints, kafka_settings: KafkaSettings, sample_governance: int, tmp_path: Path
) -> None:
    large = enterprise("LARGE", 3)
    micro = enterprise("MICRO", 3)
    with Publisher(agency="market", settings=kafka_settings) as pub:
        for ent in (large, micro):
            reg = next(records(CATALOG.get("market.registration"), [ent], 1))
            pub.publish("market.registration", "c", ent.uscc, after=reg)
    data = tmp_path / "payments.jsonl"
    data.write_text(
        "\n".join(to_json(next(records(PAYMENT, [e], 1))) for e in (large, micro)) + "\n"
    )
    result = run_cli(endpoints, "explain", "--bank", "ccb", "--category", PAYMENT.id, str(data))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"line 1 {large.uscc}: DENIED (filtered) under ccb-inclusive-2026")
    assert any(
        ln.startswith(f"line 2 {micro.uscc}: DELIVERED under ccb-inclusive-2026") for ln in lines
    )
    assert "filtered 1" in lines[-1] and "delivered 1" in lines[-1]
    bank_view = json.loads(
        next(ln for ln in lines if ln.strip().startswith("bank sees:")).split("bank sees: ")[1]
    )
    assert "voucher_no" not in bank_view
