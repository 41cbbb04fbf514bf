"""Bad input on a source topic goes to `sharebus.dlq` with its reason; the worker goes on."""

from __future__ import annotations

import struct
from pathlib import Path

from confluent_kafka import Producer

from producers.publisher import Publisher
from schemas import names
from schemas.catalog import load_catalog
from schemas.generate import population, records
from sharebus.settings import KafkaSettings
from sharebus.topics import Topics, TopicSpec, system_specs
from tests.integration.conftest import Endpoints, WorkerProcess, spawn_worker, stop_worker
from tests.integration.reading import audit_until, end_offsets, header, read_since


def dead_letters(settings: KafkaSettings, start: list, keys: set[bytes]) -> dict[bytes, object]:
    found = read_since(settings, start, lambda msgs: {m.key() for m in msgs} >= keys, timeout=120)
    return {m.key(): m for m in found if m.key() in keys}


def test_garbage_and_unknown_schema_ids_go_to_the_dlq(
    kafka_settings: KafkaSettings, worker: WorkerProcess, unique: str
) -> None:
    dlq_start = end_offsets(kafka_settings, names.DLQ)
    audit_start = end_offsets(kafka_settings, names.AUDIT)
    raw = Producer(kafka_settings.librdkafka())
    garbage_key = f"garbage-{unique}".encode()
    unknown_id_key = f"unknown-id-{unique}".encode()
    raw.produce("pub.tax.payment-record", key=garbage_key, value=b"\xde\xad\xbe\xef not avro")
    raw.produce(
        "pub.tax.payment-record",
        key=unknown_id_key,
        value=struct.pack(">bI", 0, 987654321) + b"\x02",
    )
    assert raw.flush(10) == 0
    cat = load_catalog().get("tax.payment-record")
    record = next(records(cat, population(50, seed=4), 1, seed=int(unique, 16) % 1000))
    with Publisher(agency="tax", settings=kafka_settings) as pub:
        good_id = pub.publish("tax.payment-record", "c", record["uscc"], after=record)

    by_key = dead_letters(kafka_settings, dlq_start, {garbage_key, unknown_id_key})
    assert set(by_key) == {garbage_key, unknown_id_key}, worker.output()[-3000:]
    garbage = by_key[garbage_key]
    assert header(garbage, "sharebus_dlq_reason").startswith("undecodable: magic byte")
    assert header(garbage, "sharebus_dlq_topic") == "pub.tax.payment-record"
    assert header(garbage, "sharebus_source").startswith("pub.tax.payment-record/")
    assert garbage.value() == b"\xde\xad\xbe\xef not avro", "the original bytes are kept"
    assert header(by_key[unknown_id_key], "sharebus_dlq_reason") == (
        "undecodable: schema id 987654321 unknown to the registry"
    )
    decided = audit_until(kafka_settings, audit_start, {good_id})
    assert len(decided) == 4, "valid records are still decided, for every bank"
    assert worker.alive(), "the worker must not stop on bad input"


def test_a_source_topic_of_no_category_goes_to_the_dlq(
    endpoints: Endpoints, kafka_settings: KafkaSettings, unique: str, tmp_path: Path
) -> None:
    stray_topic = f"pub.zz-unknown.t{unique}"
    topics = Topics(kafka_settings)
    topics.ensure([TopicSpec(stray_topic, 1), *system_specs()])
    dlq_start = end_offsets(kafka_settings, names.DLQ)
    raw = Producer(kafka_settings.librdkafka())
    stray_key = f"stray-{unique}".encode()
    raw.produce(stray_topic, key=stray_key, value=b"anything")
    assert raw.flush(10) == 0
    # A worker of its own, reading only such topics: what a restarted worker does with a
    # `pub.` topic that the catalog does not know.
    own = spawn_worker(
        endpoints, tmp_path, f"test-stray-{unique}", source_pattern=r"pub\.zz-unknown\..*"
    )
    try:
        by_key = dead_letters(kafka_settings, dlq_start, {stray_key})
        assert set(by_key) == {stray_key}, own.output()[-3000:]
        reason = header(by_key[stray_key], "sharebus_dlq_reason")
        assert reason == f"unknown category: topic {stray_topic}"
        assert own.alive()
    finally:
        stop_worker(own)
        topics.admin.delete_topics([stray_topic])
