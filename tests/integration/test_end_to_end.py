"""One record end to end on the real broker and registry: agency -> worker -> bank."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from confluent_kafka import Consumer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from consumers.subscriber import Subscriber
from foundation.settings import REGISTRY_REQUEST_TIMEOUT_S, KafkaSettings
from producers.publisher import Publisher
from schemas import names
from schemas.catalog import load_catalog
from synthetic.generate import Enterprise, population, records
from tests.integration.conftest import WorkerProcess
from tests.integration.reading import audit_until, end_offsets

GRANTED = {"uscc", "enterprise_name", "period", "tax_type", "amount_paid", "paid_at", "tax_office"}
CATALOG = load_catalog()


def micro_enterprise(seed: str) -> Enterprise:
    people = population(300, seed=int(seed, 16) % 100_000)
    return next(e for e in people if e.scale == "MICRO")


def registered(settings: KafkaSettings, ent: Enterprise) -> None:
    """Publish the enterprise's registration and wait until the worker has decided it,
    so that its profile (scale) is known when its tax records come."""
    start = end_offsets(settings, names.AUDIT)
    registration = next(records(CATALOG.get("market.registration"), [ent], 1))
    with Publisher(agency="market", settings=settings) as pub:
        event_id = pub.publish("market.registration", "c", ent.uscc, after=registration)
    assert len(audit_until(settings, start, {event_id})) == 4


def payment(ent: Enterprise) -> dict[str, Any]:
    record = next(records(CATALOG.get("tax.payment-record"), [ent], 1))
    return {**record, "amount_paid": Decimal("48213.07"), "voucher_no": "V3101152026110012"}


def test_record_published_fanned_out_and_consumed(
    kafka_settings: KafkaSettings, sample_governance: int, worker: WorkerProcess, unique: str
) -> None:
    worker.wait_governance(sample_governance)
    ent = micro_enterprise(unique)
    registered(kafka_settings, ent)
    with Publisher(agency="tax", settings=kafka_settings) as pub:
        event_id = pub.publish("tax.payment-record", "c", ent.uscc, after=payment(ent))
    assert pub.delivered == 1

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
    assert found.kind.value == "change" and found.op == "c"
    after = found.after
    assert after is not None
    assert set(after) == GRANTED, "the bank must see exactly the granted fields"
    assert "voucher_no" not in after and "late_fee" not in after
    assert after["amount_paid"] == Decimal("48213.07")
    assert found.key == ent.uscc
    assert found.headers["ce_agreementid"] == "ccb-inclusive-2026"
    assert found.headers["ce_purpose"] == "inclusive-lending"
    assert found.headers["sharebus_source"].startswith("pub.tax.payment-record/")
    assert found.headers["ce_type"] == "tax.payment-record.changed"
    assert found.headers["ce_source"] == "/agencies/tax"


def test_bank_topic_decodes_with_a_plain_confluent_deserializer(
    kafka_settings: KafkaSettings, sample_governance: int, worker: WorkerProcess, unique: str
) -> None:
    """Nothing of this project is needed to read a bank topic: Confluent's own
    AvroDeserializer, pointed at the registry, decodes it."""
    worker.wait_governance(sample_governance)
    ent = micro_enterprise(unique)
    registered(kafka_settings, ent)
    with Publisher(agency="tax", settings=kafka_settings) as pub:
        event_id = pub.publish("tax.payment-record", "c", ent.uscc, after=payment(ent))

    # Only the URL and a request timeout, as a bank engineer would write it.
    plain = {"url": kafka_settings.registry_url, "timeout": REGISTRY_REQUEST_TIMEOUT_S}
    deserialize = AvroDeserializer(SchemaRegistryClient(plain))
    consumer = Consumer(
        {
            **kafka_settings.librdkafka(),
            "group.id": f"ccb.plain-{unique}",
            "auto.offset.reset": "earliest",
            "topic.metadata.refresh.interval.ms": 2000,
        }
    )
    consumer.subscribe(["bank.ccb.tax.payment-record"])
    decoded = None
    try:
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
    assert decoded["after"]["uscc"] == ent.uscc
    assert "voucher_no" not in decoded["after"]
