"""A revoked consent, as a bank's handler sees it through the SDK: a retraction of every
record it held of the enterprise, then a tombstone; nothing of it afterwards."""

from __future__ import annotations

from consumers.subscriber import Subscriber
from foundation.settings import KafkaSettings
from producers.publisher import Publisher
from schemas import names
from schemas.catalog import load_catalog
from synthetic.generate import records
from tests.integration.bank_flow import enterprises, gather
from tests.integration.conftest import Endpoints, WorkerProcess, run_cli
from tests.integration.reading import audit_until, end_offsets

HELD = ["tax.payment-record", "court.judgment"]


def version_in(stdout: str) -> int:
    return int(stdout.split("governance version ")[1].split(")")[0])


def test_a_revoked_consent_reaches_the_handler_as_retractions(
    endpoints: Endpoints, kafka_settings: KafkaSettings, worker: WorkerProcess, unique: str
) -> None:
    (ent,) = enterprises(unique, 1)
    granted = run_cli(endpoints, "consent", "grant", "--bank", "spdb", "--uscc", ent.uscc)
    assert granted.returncode == 0, granted.stderr
    worker.wait_governance(version_in(granted.stdout))
    catalog = load_catalog()
    for category in HELD:
        record = next(records(catalog.get(category), [ent], 1))
        with Publisher(agency=category.split(".")[0], settings=kafka_settings) as pub:
            pub.publish(category, "c", ent.uscc, after=record)

    group = f"spdb.retraction-{unique}"
    topics = [f"bank.spdb.{c}" for c in HELD]
    with Subscriber("spdb", group=group, categories=HELD, settings=kafka_settings) as sub:
        held = gather(sub, {ent.uscc}, len(HELD))
        assert sorted((e.topic, e.kind.value, e.op) for e in held) == [
            (t, "change", "c") for t in sorted(topics)
        ]
        revoked = run_cli(endpoints, "consent", "revoke", "--bank", "spdb", "--uscc", ent.uscc)
        assert revoked.returncode == 0, revoked.stderr
        version = version_in(revoked.stdout)
        worker.wait_governance(version)
        erased = gather(sub, {ent.uscc}, 2 * len(HELD))
    for topic in topics:
        here = [e for e in erased if e.topic == topic]
        assert [e.kind.value for e in here] == ["retraction", "tombstone"], topic
        assert here[0].reason == "consent-revoked"
        assert here[0].governance_version == version
        assert here[0].record is None

    # Nothing of the enterprise afterwards, not even after a restart of the subscriber.
    start = end_offsets(kafka_settings, names.AUDIT)
    ids = set()
    for category in HELD:
        record = next(records(catalog.get(category), [ent], 1, seed=2))
        with Publisher(agency=category.split(".")[0], settings=kafka_settings) as pub:
            ids.add(pub.publish(category, "c", ent.uscc, after=record))
    decided = audit_until(kafka_settings, start, ids)
    assert {a["reason"] for a in decided if a["bank"] == "spdb"} == {"no-consent"}
    with Subscriber("spdb", group=group, categories=HELD, settings=kafka_settings) as sub:
        assert [e for e in sub.events(idle=10) if e.key == ent.uscc] == []
