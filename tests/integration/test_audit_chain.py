"""`sharebus audit verify` on the real audit: intact as the workers wrote it, and an
entry altered, one removed and one inserted in a copy are each found with its position."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import Producer

from foundation.settings import KafkaSettings
from governance.topics import Topics, TopicSpec
from producers.publisher import Publisher
from schemas import names
from schemas.catalog import load_catalog
from schemas.serde import AvroSerde, registry_client
from schemas.system import audit_schema
from sharebus.audit_verify import audit_entries
from streams.audit_chain import seal
from synthetic.generate import population, records
from tests.integration.conftest import Endpoints, WorkerProcess, run_cli
from tests.integration.reading import audit_until, end_offsets


@pytest.mark.timeout(900)  # a fresh session worker first reads all history
def test_the_audit_is_intact_and_tampering_is_found(
    endpoints: Endpoints, kafka_settings: KafkaSettings, worker: WorkerProcess, unique: str
) -> None:
    cat = load_catalog().get("tax.credit-rating")
    start = end_offsets(kafka_settings, names.AUDIT)
    with Publisher(agency="tax", settings=kafka_settings) as pub:
        ids = {
            pub.publish(cat.id, "c", row["uscc"], after=row)
            for row in records(cat, population(50, seed=int(unique, 16) % 997), 10)
        }
    audit_until(kafka_settings, start, ids, timeout=300)

    intact = run_cli(endpoints, "audit", "verify")
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert intact.stdout.startswith("intact: ")

    # The first six entries of one chain, copied three times, each copy tampered with.
    entries = audit_entries(kafka_settings, names.AUDIT)
    by_chain: dict[str, list[dict[str, Any]]] = {}
    for _, record in entries:
        if record.get("chain"):
            by_chain.setdefault(record["chain"], []).append(record)
    run = next(rs[:6] for rs in by_chain.values() if len(rs) >= 6)  # from its anchor
    serde = AvroSerde(registry_client(kafka_settings.registry()))
    subject = names.value_subject(names.AUDIT)
    altered = [dict(r) for r in run]
    altered[3]["reason"] = "delivered" if altered[3]["reason"] != "delivered" else "filtered"
    removed = [dict(r) for i, r in enumerate(run) if i != 3]
    forged = {**run[2], "event_id": "forged", "bank": "nobody"}
    seal(forged, run[2]["chain"], run[2]["hash"])
    inserted = [dict(r) for r in run[:3]] + [forged] + [dict(r) for r in run[3:]]
    cases = {"altered": (altered, 3), "removed": (removed, 3), "inserted": (inserted, 4)}
    topics = Topics(kafka_settings)
    producer = Producer(kafka_settings.librdkafka())
    try:
        for case, (copy, _) in cases.items():
            topic = f"test-audit-copy-{case}-{unique}"
            topics.ensure([TopicSpec(topic, 1)])
            for record in copy:
                producer.produce(topic, value=serde.encode(subject, audit_schema(), record))
        assert producer.flush(10) == 0
        for case, (_, offset) in cases.items():
            topic = f"test-audit-copy-{case}-{unique}"
            found = run_cli(endpoints, "audit", "verify", "--topic", topic)
            assert found.returncode == 1, found.stdout + found.stderr
            (line,) = found.stdout.splitlines()
            assert line.startswith(f"broken: {topic}/0/{offset} ("), line
            assert case in line, line
    finally:
        topics.admin.delete_topics([f"test-audit-copy-{c}-{unique}" for c in cases])
