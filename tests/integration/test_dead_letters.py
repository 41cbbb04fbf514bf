"""Bad input on a source topic goes to `sharebus.dlq` with its reason; the worker goes on."""

from __future__ import annotations

import json
import struct

from confluent_kafka import Producer

from foundation.settings import KafkaSettings
from governance.topics import Topics, TopicSpec, system_specs
from producers.publisher import Publisher
from schemas import names
from schemas.catalog import load_catalog
from schemas.serde import AvroSerde, encode_with, registry_client
from synthetic.generate import population, records
from tests.integration.conftest import Endpoints, WorkerProcess, run_cli
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
        "wrong schema: id 987654321 is not a version of pub.tax.payment-record-value"
    )
    decided = audit_until(kafka_settings, audit_start, {good_id})
    assert len(decided) == 4, "valid records are still decided, for every bank"
    assert worker.alive(), "the worker must not stop on bad input"


def test_a_record_framed_with_another_categorys_schema_goes_to_the_dlq(
    kafka_settings: KafkaSettings, worker: WorkerProcess, unique: str
) -> None:
    catalog = load_catalog()
    rating = catalog.get("tax.credit-rating")
    serde = AvroSerde(registry_client(kafka_settings.registry()))
    schema_id, parsed = serde.writer(rating.subject, rating.envelope())
    row = next(records(rating, population(50, seed=5), 1, seed=int(unique, 16) % 1000))
    source = {"agency": "tax", "system": "test", "sequence": 1}
    value = encode_with(
        schema_id,
        parsed,
        {"op": "c", "before": None, "after": row, "source": source, "ts_ms": 0},
    )
    dlq_start = end_offsets(kafka_settings, names.DLQ)
    key = f"wrong-schema-{unique}".encode()
    raw = Producer(kafka_settings.librdkafka())
    raw.produce("pub.tax.payment-record", key=key, value=value)
    assert raw.flush(10) == 0
    by_key = dead_letters(kafka_settings, dlq_start, {key})
    reason = header(by_key[key], "sharebus_dlq_reason")
    assert reason == (
        f"wrong schema: id {schema_id} is not a version of pub.tax.payment-record-value"
    ), "a record of another category is never read as this topic's category"
    assert worker.alive()


def test_a_source_topic_created_after_the_worker_started_is_read_without_a_restart(
    kafka_settings: KafkaSettings, worker: WorkerProcess, unique: str
) -> None:
    """The workers subscribe to the pattern: a new `pub.` topic is read within seconds
    (here one of no category, so its records go to the DLQ)."""
    worker.wait_governance(0)
    stray_topic = f"pub.zz-unknown.t{unique}"
    topics = Topics(kafka_settings)
    topics.ensure([TopicSpec(stray_topic, 1), *system_specs()])
    dlq_start = end_offsets(kafka_settings, names.DLQ)
    raw = Producer(kafka_settings.librdkafka())
    stray_key = f"stray-{unique}".encode()
    raw.produce(stray_topic, key=stray_key, value=b"anything")
    assert raw.flush(10) == 0
    try:
        by_key = dead_letters(kafka_settings, dlq_start, {stray_key})
        assert set(by_key) == {stray_key}, worker.output()[-3000:]
        reason = header(by_key[stray_key], "sharebus_dlq_reason")
        assert reason == f"unknown category: topic {stray_topic}"
        assert worker.alive()
    finally:
        topics.admin.delete_topics([stray_topic])


def test_dlq_list_and_replay_send_a_dead_letter_back_once(
    endpoints: Endpoints, kafka_settings: KafkaSettings, worker: WorkerProcess, unique: str
) -> None:
    key = f"replay-{unique}"
    dlq_start = end_offsets(kafka_settings, names.DLQ)
    raw = Producer(kafka_settings.librdkafka())
    raw.produce("pub.tax.payment-record", key=key.encode(), value=b"not avro at all")
    assert raw.flush(10) == 0
    dead_letters(kafka_settings, dlq_start, {key.encode()})

    listed = run_cli(endpoints, "dlq", "list", "--key", key, "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["topic"] == "pub.tax.payment-record" and row["reason"].startswith("undecodable")
    assert row["replayed"] is False

    source_start = end_offsets(kafka_settings, "pub.tax.payment-record")
    first = run_cli(endpoints, "dlq", "replay", "--key", key)
    assert first.returncode == 0, first.stderr
    assert "replayed 1 dead letter(s)" in first.stdout
    second = run_cli(endpoints, "dlq", "replay", "--key", key)
    assert second.returncode == 0, second.stderr
    assert "0 dead letter(s) to replay" in second.stdout, "a dead letter is replayed once"
    sent = read_since(kafka_settings, source_start, lambda m: False, timeout=5)
    replays = [m for m in sent if m.key() == key.encode()]
    assert len(replays) == 1 and replays[0].value() == b"not avro at all"
    assert header(replays[0], "sharebus_replay_of") == row["position"]
    assert header(replays[0], "sharebus_dlq_reason") is None
