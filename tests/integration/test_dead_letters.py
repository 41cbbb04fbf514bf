"""Bad input on a source topic goes to `sharebus.dlq` with its reason; the worker goes on."""

from __future__ import annotations

import struct

from confluent_kafka import Producer

from producers.publisher import Publisher
from schemas import names
from schemas.catalog import load_catalog
from schemas.generate import population, records
from sharebus.settings import PROJECT_ROOT, KafkaSettings
from sharebus.topics import Topics, TopicSpec, source_spec, system_specs
from tests.integration.reading import end_offsets, header, read_since

GOVERNANCE = PROJECT_ROOT / "examples" / "governance"


def test_garbage_unknown_schema_and_unknown_category_go_to_the_dlq(
    kafka_settings: KafkaSettings, start_worker, unique: str
) -> None:
    stray_topic = f"pub.zz-unknown.t{unique}"
    topics = Topics(kafka_settings)
    topics.ensure([source_spec("tax.payment-record"), *system_specs(), TopicSpec(stray_topic, 1)])
    dlq_start = end_offsets(kafka_settings, names.DLQ)
    bank_start = end_offsets(kafka_settings, "bank.ccb.tax.payment-record")

    raw = Producer(kafka_settings.librdkafka())
    garbage_key = f"garbage-{unique}".encode()
    unknown_id_key = f"unknown-id-{unique}".encode()
    stray_key = f"stray-{unique}".encode()
    raw.produce("pub.tax.payment-record", key=garbage_key, value=b"\xde\xad\xbe\xef not avro")
    raw.produce(
        "pub.tax.payment-record",
        key=unknown_id_key,
        value=struct.pack(">bI", 0, 987654321) + b"\x02",
    )
    raw.produce(stray_topic, key=stray_key, value=b"anything")
    assert raw.flush(10) == 0

    record = next(
        records(
            load_catalog().get("tax.payment-record"),
            population(50, seed=4),
            1,
            seed=int(unique, 16) % 1000,
        )
    )
    with Publisher(agency="tax", settings=kafka_settings) as pub:
        good_id = pub.publish("tax.payment-record", "c", record["uscc"], after=record)

    worker = start_worker(governance=GOVERNANCE)
    ours = {garbage_key, unknown_id_key, stray_key}
    dead = read_since(
        kafka_settings,
        dlq_start,
        lambda msgs: {m.key() for m in msgs} >= ours,
        timeout=90,
    )
    by_key = {m.key(): m for m in dead if m.key() in ours}
    assert set(by_key) == ours, f"missing DLQ entries; worker log:\n{worker.output()[-3000:]}"

    garbage = by_key[garbage_key]
    assert header(garbage, "sharebus_dlq_reason").startswith("undecodable: magic byte")
    assert header(garbage, "sharebus_dlq_topic") == "pub.tax.payment-record"
    assert header(garbage, "sharebus_source").startswith("pub.tax.payment-record/")
    assert garbage.value() == b"\xde\xad\xbe\xef not avro", "the original bytes are kept"
    assert header(by_key[unknown_id_key], "sharebus_dlq_reason") == (
        "undecodable: schema id 987654321 unknown to the registry"
    )
    assert (
        header(by_key[stray_key], "sharebus_dlq_reason") == f"unknown category: topic {stray_topic}"
    )

    delivered = read_since(
        kafka_settings,
        bank_start,
        lambda msgs: any(header(m, "ce_id") == good_id for m in msgs),
        timeout=60,
    )
    assert any(header(m, "ce_id") == good_id for m in delivered), "valid records still flow"
    assert worker.alive(), "the worker must not stop on bad input"
    topics.admin.delete_topics([stray_topic])
