"""One record end to end on the real broker and registry: agency -> worker -> bank."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from consumers.subscriber import Subscriber
from producers.publisher import Publisher
from schemas.uscc import ALPHABET, check_character
from sharebus.settings import PROJECT_ROOT, KafkaSettings
from sharebus.topics import Topics, source_spec, system_specs

GOVERNANCE = PROJECT_ROOT / "examples" / "governance"
GRANTED = {"uscc", "enterprise_name", "period", "tax_type", "amount_paid", "paid_at", "tax_office"}


def random_uscc(rng: random.Random) -> str:
    body = "91310115" + "".join(rng.choice(ALPHABET) for _ in range(9))
    return body + check_character(body)


def payment(uscc: str) -> dict[str, object]:
    return {
        "uscc": uscc,
        "enterprise_name": "上海浦江精密机械有限公司",
        "period": "2026-10",
        "tax_type": "VAT",
        "amount_paid": Decimal("48213.07"),
        "paid_at": datetime(2026, 11, 10, 9, 30, tzinfo=UTC),
        "voucher_no": "V3101152026110012",
        "tax_office": "国家税务总局上海市浦东新区税务局",
        "late_fee": Decimal("12.40"),
    }


def test_record_published_fanned_out_and_consumed(
    kafka_settings: KafkaSettings, start_worker, unique: str, tmp_path: Path
) -> None:
    Topics(kafka_settings).ensure([source_spec("tax.payment-record"), *system_specs()])
    uscc = random_uscc(random.Random(unique))
    with Publisher(agency="tax", settings=kafka_settings) as pub:
        event_id = pub.publish("tax.payment-record", "c", uscc, after=payment(uscc))
    assert pub.delivered == 1

    worker = start_worker(governance=GOVERNANCE)
    found = None
    with Subscriber(
        "ccb",
        group=f"ccb.test-{unique}",
        categories=["tax.payment-record"],
        settings=kafka_settings,
    ) as sub:
        for event in sub.events(timeout=90):
            if event.headers.get("ce_id") == event_id:
                found = event
                break
    assert found is not None, (
        f"record never reached the bank; worker log:\n{worker.output()[-3000:]}"
    )
    assert worker.alive()

    after = found.value["after"]
    assert set(after) == GRANTED, "the bank must see exactly the granted fields"
    assert "voucher_no" not in after and "late_fee" not in after
    assert after["amount_paid"] == Decimal("48213.07")
    assert found.key == uscc
    assert found.headers["ce_agreementid"] == "ccb-inclusive-2026"
    assert found.headers["ce_purpose"] == "inclusive-lending"
    assert found.headers["sharebus_source"].startswith("pub.tax.payment-record/")
    assert found.headers["ce_type"] == "tax.payment-record.changed"
    assert found.headers["ce_source"] == "/agencies/tax"


def test_bank_topic_decodes_with_a_plain_confluent_deserializer(
    kafka_settings: KafkaSettings, start_worker, unique: str
) -> None:
    """Nothing of this project is needed to read a bank topic: Confluent's own
    AvroDeserializer, pointed at the registry, decodes it."""
    Topics(kafka_settings).ensure([source_spec("tax.payment-record"), *system_specs()])
    uscc = random_uscc(random.Random(unique))
    with Publisher(agency="tax", settings=kafka_settings) as pub:
        event_id = pub.publish("tax.payment-record", "c", uscc, after=payment(uscc))
    start_worker(governance=GOVERNANCE)

    deserialize = AvroDeserializer(SchemaRegistryClient({"url": kafka_settings.registry_url}))
    consumer = Consumer(
        {
            "bootstrap.servers": kafka_settings.bootstrap,
            "group.id": f"ccb.plain-{unique}",
            "auto.offset.reset": "earliest",
            "topic.metadata.refresh.interval.ms": 2000,
        }
    )
    consumer.subscribe(["bank.ccb.tax.payment-record"])
    decoded = None
    try:
        import time

        deadline = time.monotonic() + 90
        while decoded is None and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is None or msg.error() or msg.value() is None:
                continue
            if dict(msg.headers() or []).get("ce_id") == event_id.encode():
                ctx = SerializationContext(msg.topic(), MessageField.VALUE)
                decoded = deserialize(msg.value(), ctx)
    finally:
        consumer.close()
    assert decoded is not None, "the plain Confluent consumer never saw the record"
    assert decoded["op"] == "c"
    assert decoded["after"]["uscc"] == uscc
    assert decoded["after"]["tax_type"] == "VAT"
    assert "voucher_no" not in decoded["after"]
