"""Changing governance on the real stack does exactly what it says: apply reconciles
(what leaves the folder ends), plan shows it first, prune keeps what is in force, a bank
topic deleted by hand stops nobody, a new bank is YAML alone, and updates crossing a
bank's filter reach it as its filtered view's changes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from foundation.settings import KafkaSettings
from governance.topics import Topics, bank_spec
from producers.publisher import Publisher
from schemas import names
from schemas.catalog import load_catalog
from sharebus.governance_log import read_current
from synthetic.generate import records
from tests.integration.conftest import (
    GOVERNANCE,
    Endpoints,
    WorkerProcess,
    apply_sample,
    run_cli,
    wait_for,
)
from tests.integration.reading import (
    audit_until,
    decoded,
    end_offsets,
    header,
    read_since,
)
from tests.integration.test_governance_live import enterprise, publish_and_audit

CATALOG = load_catalog()


@pytest.fixture
def folder(tmp_path: Path, kafka_settings: KafkaSettings) -> Iterator[Path]:
    """A copy of the sample governance to change; the sample is in force again after."""
    copy = tmp_path / "governance"
    shutil.copytree(GOVERNANCE, copy)
    yield copy
    apply_sample(kafka_settings)


def apply(endpoints: Endpoints, directory: Path) -> str:
    result = run_cli(endpoints, "governance", "apply", str(directory))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_plan_on_the_folder_in_force_shows_no_change(
    endpoints: Endpoints, sample_governance: int
) -> None:
    result = run_cli(endpoints, "governance", "plan", str(GOVERNANCE))
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip()
        .splitlines()[-1]
        .startswith(
            "plan: 0 to add, 0 to change, 0 to end, 0 consent(s) to grant, 0 consent(s) to revoke"
        )
    ), result.stdout


def trial_agreement(agreement_id: str, bank: str) -> str:
    """An agreement of the test's own: ending it leaves the sample folder appliable."""
    return (
        f"kind: agreement\nid: {agreement_id}\nbank: {bank}\npurpose: credit-assessment\n"
        "effective_from: 2026-01-01T00:00:00+08:00\neffective_until: 2028-01-01T00:00:00+08:00\n"
        "grants:\n  - category: stc.tech-sme\n    fields: [uscc, enterprise_name, year]\n"
    )


def publish_tech_sme(settings: KafkaSettings, seed: int, banks: int = 4) -> tuple[dict, dict]:  # type: ignore[type-arg]
    ent = enterprise("SMALL", seed)
    tech = CATALOG.get("stc.tech-sme")
    row = next(records(tech, [ent], 1))
    audit_start = end_offsets(settings, names.AUDIT)
    with Publisher(agency="stc", settings=settings) as pub:
        event_id = pub.publish(tech.id, "c", ent.uscc, after=row)
    audit = audit_until(settings, audit_start, {event_id}, banks=banks)
    return {a["bank"]: a for a in audit}, {"event_id": event_id, "row": row, "uscc": ent.uscc}


def test_removing_an_agreement_file_and_applying_stops_deliveries_under_it(
    endpoints: Endpoints,
    kafka_settings: KafkaSettings,
    sample_governance: int,
    worker: WorkerProcess,
    folder: Path,
    unique: str,
) -> None:
    trial = f"ccb-trial-{unique}"
    (folder / "agreements" / "trial.yaml").write_text(trial_agreement(trial, "ccb"))
    version = applied_version(apply(endpoints, folder))
    worker.wait_governance(version)
    seed = int(unique, 16) % 10_000
    decisions, _ = publish_tech_sme(kafka_settings, seed)
    assert decisions["ccb"]["reason"] == "delivered" and decisions["ccb"]["agreement_id"] == trial

    (folder / "agreements" / "trial.yaml").unlink()
    planned = run_cli(endpoints, "governance", "plan", str(folder))
    assert planned.returncode == 0, planned.stderr
    assert f"- end    agreement {trial}: not in the folder" in planned.stdout
    version = applied_version(apply(endpoints, folder))
    worker.wait_governance(version)
    assert read_current(kafka_settings).agreements[trial].status == "terminated"

    decisions, _ = publish_tech_sme(kafka_settings, seed + 1)
    ccb = decisions["ccb"]
    assert ccb["decision"] == "denied" and ccb["reason"] == "terminated"
    assert ccb["governance_version"] == version and trial in ccb["detail"]


def applied_version(stdout: str) -> int:
    return int(stdout.split("applied governance version ")[1].split()[0])


def test_prune_never_deletes_a_topic_an_agreement_in_force_grants(
    endpoints: Endpoints, kafka_settings: KafkaSettings, sample_governance: int, folder: Path
) -> None:
    stray = bank_spec("ccb", "housing.qualification", 3, 1)  # granted by nobody
    Topics(kafka_settings).ensure([stray])
    # A folder older than what is in force: it lacks bocom's agreement.
    (folder / "agreements" / "bocom-working-capital.yaml").unlink()
    result = run_cli(endpoints, "topics", "apply", "--prune", "--governance", str(folder))
    assert result.returncode == 0, result.stderr
    bocom_topics = [names.bank_topic("bocom", g.category) for g in _bocom_grants()]
    for topic in bocom_topics:
        assert f"kept {topic}: granted by an agreement in force" in result.stdout
    assert f"deleted {stray.name}" in result.stdout
    existing = Topics(kafka_settings).partitions()
    assert all(t in existing for t in bocom_topics)
    assert stray.name not in existing


def _bocom_grants() -> list:  # type: ignore[type-arg]
    from governance.loader import governance_from_dir

    return list(governance_from_dir(GOVERNANCE).agreements["bocom-working-capital-2026"].grants)


def test_a_bank_topic_deleted_by_hand_does_not_stop_other_banks(
    kafka_settings: KafkaSettings, sample_governance: int, worker: WorkerProcess, unique: str
) -> None:
    worker.wait_governance(sample_governance)
    ent = enterprise("MICRO", int(unique, 16) % 10_000 + 40_000)
    publish_and_audit(kafka_settings, "market.registration", ent)
    doomed = names.bank_topic("bocom", "tax.payment-record")
    ccb_topic = names.bank_topic("ccb", "tax.payment-record")
    admin = AdminClient(kafka_settings.librdkafka())
    admin.delete_topics([doomed], operation_timeout=30)[doomed].result(30)

    payment = CATALOG.get("tax.payment-record")
    ccb_start = end_offsets(kafka_settings, ccb_topic)
    rows = list(records(payment, [ent], 3, seed=int(unique, 16) % 997))
    with Publisher(agency="tax", settings=kafka_settings) as pub:
        ids = {pub.publish(payment.id, "c", ent.uscc, after=r) for r in rows}
    audit_start = end_offsets(kafka_settings, names.AUDIT)
    got = read_since(
        kafka_settings,
        ccb_start,
        lambda ms: {header(m, "ce_id") for m in ms} >= ids,
        timeout=90,
    )
    assert {header(m, "ce_id") for m in got} >= ids, "ccb must keep receiving"
    # The next event bocom's filter lets through makes the worker create the missing topic
    # again, and reaches bocom (the three above may all have been filtered out for it).
    rich = {**rows[0], "amount_paid": Decimal("50000.00")}
    with Publisher(agency="tax", settings=kafka_settings) as pub:
        last = pub.publish(payment.id, "c", ent.uscc, after=rich)
    decisions = {a["bank"]: a for a in audit_until(kafka_settings, audit_start, {last})}
    assert decisions["bocom"]["reason"] == "delivered", decisions["bocom"]
    wait_for(lambda: doomed in Topics(kafka_settings).partitions(), 60, what=f"{doomed} back")
    bocom = read_since(
        kafka_settings,
        _from_start(kafka_settings, doomed),
        lambda ms: last in {header(m, "ce_id") for m in ms},
        timeout=60,
    )
    assert last in {header(m, "ce_id") for m in bocom}
    assert worker.alive()


def _from_start(settings: KafkaSettings, topic: str) -> list:  # type: ignore[type-arg]
    from confluent_kafka import TopicPartition

    return [TopicPartition(topic, tp.partition, 0) for tp in end_offsets(settings, topic)]


def test_a_fifth_bank_is_onboarded_by_yaml_alone(
    endpoints: Endpoints,
    kafka_settings: KafkaSettings,
    sample_governance: int,
    worker: WorkerProcess,
    folder: Path,
    unique: str,
) -> None:
    bank = f"b{unique}"  # a bank of this run: the sample retires it afterwards
    (folder / "parties" / "new-bank.yaml").write_text(
        f"kind: bank\nid: {bank}\nname_en: Bank of Ningbo, Shanghai branch\n"
        "name_zh: 宁波银行上海分行\ncontact: sme lending\n"
    )
    (folder / "agreements" / "new-bank.yaml").write_text(trial_agreement(f"{bank}-trial", bank))
    out = apply(endpoints, folder)
    assert f"+ add    bank {bank}" in out and f"+ add    agreement {bank}-trial" in out
    status = worker.wait_governance(applied_version(out))
    assert bank in status["banks"]

    decisions, sent = publish_tech_sme(kafka_settings, int(unique, 16) % 10_000 + 60_000, banks=5)
    assert decisions[bank]["reason"] == "delivered", decisions[bank]
    topic = names.bank_topic(bank, "stc.tech-sme")
    got = read_since(
        kafka_settings,
        _from_start(kafka_settings, topic),
        lambda ms: sent["event_id"] in {header(m, "ce_id") for m in ms},
        timeout=60,
    )
    ours = [m for m in got if header(m, "ce_id") == sent["event_id"]]
    assert decoded(kafka_settings, ours)[0]["after"] == {
        "uscc": sent["uscc"],
        "enterprise_name": sent["row"]["enterprise_name"],
        "year": sent["row"]["year"],
    }


def test_updates_crossing_a_filter_reach_the_bank_as_its_view_changes(
    kafka_settings: KafkaSettings, sample_governance: int, worker: WorkerProcess, unique: str
) -> None:
    """bocom receives tax credit ratings A and B only (`record.rating in ['A', 'B']`)."""
    worker.wait_governance(sample_governance)
    rating = CATALOG.get("tax.credit-rating")
    ent = enterprise("MEDIUM", int(unique, 16) % 10_000 + 80_000)
    base = next(records(rating, [ent], 1))
    a, b, c, d = ({**base, "rating": r} for r in "ABCD")
    topic = names.bank_topic("bocom", rating.id)
    start = end_offsets(kafka_settings, topic)
    audit_start = end_offsets(kafka_settings, names.AUDIT)
    steps = [(c, a, "c"), (a, b, "u"), (b, c, "d"), (c, d, None)]
    ids = {}
    with Publisher(agency="tax", settings=kafka_settings) as pub:
        for before, after, expected in steps:
            ids[pub.publish(rating.id, "u", ent.uscc, before=before, after=after)] = expected
    audit = {
        x["event_id"]: x
        for x in audit_until(kafka_settings, audit_start, set(ids))
        if x["bank"] == "bocom"
    }
    for event_id, expected in ids.items():
        assert audit[event_id]["bank_op"] == expected, audit[event_id]
    delivered = {i for i, e in ids.items() if e}
    got = read_since(
        kafka_settings,
        start,
        lambda ms: (
            {header(m, "ce_id") for m in ms if m.value() is not None} >= delivered
            and any(m.value() is None for m in ms)
        ),
        timeout=60,
    )
    by_id = {header(m, "ce_id"): m for m in got if m.value() is not None}
    values = {i: decoded(kafka_settings, [m])[0] for i, m in by_id.items()}
    entered, changed, left = (next(i for i, e in ids.items() if e == k) for k in "cud")
    assert values[entered]["op"] == "c" and values[entered]["before"] is None
    assert values[entered]["after"]["rating"] == "A"
    assert values[changed]["op"] == "u"
    assert (values[changed]["before"]["rating"], values[changed]["after"]["rating"]) == ("A", "B")
    assert values[left]["op"] == "d" and values[left]["after"] is None
    assert values[left]["before"]["rating"] == "B"
    # A rating C never reaches bocom, on either side of any record it received.
    for v in values.values():
        for side in (v["before"], v["after"]):
            assert side is None or side["rating"] in ("A", "B")
    tombstones = [m for m in got if m.value() is None and header(m, "ce_id") == left]
    assert tombstones, "leaving the view ends with a tombstone"
