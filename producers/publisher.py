"""The publisher SDK: an agency sends change events of its categories.

    with Publisher(agency="tax") as pub:
        pub.publish("tax.payment-record", "c", uscc, after=record)

Each record is validated before it is sent (category of this agency, USCC check
character, the category's schema), framed with the registry's schema id, and produced
idempotently with acks=all and the murmur2 partitioner (so librdkafka, aiokafka and
Java clients agree on partitions). Leaving the `with` block flushes: what returned
without error was delivered, or the exit raises.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

from foundation import headers as h
from foundation.kafka_errors import refusal
from foundation.settings import KafkaSettings, get_kafka_settings
from producers.errors import PublishError
from producers.validate import check_event
from schemas.catalog import Catalog, Category, load_catalog
from schemas.errors import UnknownCategoryError
from schemas.registry import REGISTER_CONCURRENCY
from schemas.serde import AvroSerde, registry_client

DeliveryCallback = Callable[[str, KafkaError | None], None]
# librdkafka's own cap on one message when the producer config does not set one.
DEFAULT_MESSAGE_MAX = 1_000_000
# Bytes a record batch adds around one record (batch header, record framing).
BATCH_OVERHEAD = 100


class Publisher:
    """Publishes an agency's change events to `pub.<category>` topics."""

    def __init__(
        self,
        agency: str,
        *,
        system: str = "sharebus-sdk",
        settings: KafkaSettings | None = None,
        catalog: Catalog | None = None,
        on_delivery: DeliveryCallback | None = None,
        producer_config: dict[str, Any] | None = None,
    ) -> None:
        self.agency = agency
        self.system = system
        self.catalog = catalog or load_catalog()
        if not self.catalog.of_agency(agency):
            raise PublishError(f"unknown agency '{agency}': the catalog has no category of it")
        settings = settings or get_kafka_settings()
        self.principal = settings.principal
        self.serde = AvroSerde(registry_client(settings.registry()))
        conf: dict[str, Any] = {
            **settings.librdkafka(),
            "enable.idempotence": True,
            "acks": "all",
            # murmur2 so that Java, librdkafka and aiokafka put a key on the same partition.
            "partitioner": "murmur2_random",
            # Kafka 4's default: an event waits at most 5 ms for others to share its batch.
            "linger.ms": 5,
            "compression.type": "lz4",
            **(producer_config or {}),
        }
        self._producer = Producer(conf)
        self._settings = settings
        self._client_max = int(conf.get("message.max.bytes", DEFAULT_MESSAGE_MAX))
        self._limits: dict[str, int] = {}
        self._admin: AdminClient | None = None  # made when a topic limit is first asked
        self._on_delivery = on_delivery
        self._failures: list[str] = []
        self._sequence = time.time_ns() // 1000
        self.delivered = 0

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.flush()

    def publish(
        self,
        category: str,
        op: str,
        uscc: str,
        *,
        after: dict[str, Any] | None = None,
        before: dict[str, Any] | None = None,
        ts_ms: int | None = None,
        sequence: int | None = None,
        event_id: str | None = None,
    ) -> str:
        """Validate and send one change event; return its event id (`ce_id`).

        A delete (`op="d"`) is followed by a tombstone so that compaction forgets the key.
        Without `event_id` each call is a new event (a random id); to make sending again
        recognisable, pass the system's own change id, or `producers.ids.event_id(...)`.
        """
        cat = self._category(category)
        envelope = check_event(cat, op, uscc, before, after)
        if sequence is None:
            self._sequence += 1
            sequence = self._sequence
        envelope["source"] = {"agency": self.agency, "system": self.system, "sequence": sequence}
        envelope["ts_ms"] = ts_ms if ts_ms is not None else int(time.time() * 1000)
        value = self.serde.encode(cat.subject, cat.envelope(), envelope)
        ce_id = event_id or str(uuid.uuid4())
        headers = h.cloudevent(self.agency, cat.id, ce_id)
        size = len(value) + len(uscc.encode()) + sum(len(k) + len(v) for k, v in headers)
        limit = self.max_message_bytes(cat.topic)
        if size + BATCH_OVERHEAD > limit:
            raise PublishError(
                f"record of {size:,} bytes is over the {limit:,}-byte limit of {cat.topic}"
            )
        self._produce(cat.topic, uscc, value, headers, ce_id)
        if op == "d":
            self._produce(cat.topic, uscc, None, headers, ce_id)
        return ce_id

    def flush(self, timeout: float = 60.0) -> None:
        """Wait for every delivery report; raise if any record was not delivered."""
        # In slices: a refused login (raised by the error callback) ends the wait at once.
        deadline = time.monotonic() + timeout
        remaining = self._producer.flush(0.5)
        while remaining and time.monotonic() < deadline:
            remaining = self._producer.flush(0.5)
        if remaining:
            # Not "not delivered": a broker that went away may have written them.
            raise PublishError(
                f"{remaining:,} messages not confirmed within {timeout:.0f}s "
                "(they may have arrived)"
            )
        if self._failures:
            failures, self._failures = self._failures, []
            raise PublishError(f"{len(failures)} records not delivered: {failures[0]}")

    def poll(self, timeout: float = 0) -> None:
        self._producer.poll(timeout)

    def max_message_bytes(self, topic: str) -> int:
        """The largest record `topic` takes: its `max.message.bytes`, capped by the
        producer's own `message.max.bytes`. Read once per topic; an agency that may not
        describe topic configs gets the producer's cap (the broker still enforces its own)."""
        if topic not in self._limits:
            self._learn_limits([topic])
        return self._limits[topic]

    def prepare(self) -> None:
        """Learn before the first event what each of the agency's categories needs: the
        topics' size limits (in one request) and the schema ids (a new subject is
        registered). Optional: without it, the first event of each category waits for
        these, which at a few hundred categories is many seconds of a first run."""
        categories = self.catalog.of_agency(self.agency)
        self._learn_limits([c.topic for c in categories if c.topic not in self._limits])
        with ThreadPoolExecutor(max_workers=REGISTER_CONCURRENCY) as pool:
            list(pool.map(lambda c: self.serde.writer(c.subject, c.envelope()), categories))

    def _learn_limits(self, topics: list[str]) -> None:
        if not topics:
            return
        if self._admin is None:
            # One per Publisher: each is a TLS and SCRAM login. Without prepare(), every
            # category's first event asks for its topic's limit.
            self._admin = AdminClient(self._settings.librdkafka())
        resources = [ConfigResource(ResourceType.TOPIC, t) for t in topics]
        try:
            answers = self._admin.describe_configs(resources, request_timeout=5)
        except KafkaException:
            answers = {}
        for resource in resources:
            limit = self._client_max
            if resource in answers:
                try:
                    entries = answers[resource].result(timeout=5)
                    limit = min(limit, int(entries["max.message.bytes"].value))
                except (KafkaException, TimeoutError, KeyError, ValueError, TypeError):
                    pass  # Kafka unreachable too: the publish that follows says so
            self._limits[resource.name] = limit

    # ---- internals ---------------------------------------------------------------

    def _category(self, category: str) -> Category:
        try:
            cat = self.catalog.get(category)
        except UnknownCategoryError as exc:
            raise PublishError(str(exc)) from None
        if cat.agency != self.agency:
            raise PublishError(
                f"category '{category}' belongs to agency '{cat.agency}', not '{self.agency}'"
            )
        return cat

    def _produce(
        self, topic: str, key: str, value: bytes | None, headers: h.Headers, ce_id: str
    ) -> None:
        def report(err: KafkaError | None, msg: Message) -> None:
            if err is not None:
                refused = refusal(err, self.principal, "write to", topic)
                self._failures.append(refused or f"{topic} {key}: {err.str()}")
            elif value is not None:
                self.delivered += 1
            if self._on_delivery is not None and value is not None:
                self._on_delivery(ce_id, err)

        while True:
            try:
                self._producer.produce(
                    topic,
                    key=key.encode(),
                    value=value,
                    headers=list(headers),
                    on_delivery=report,
                )
                break
            except BufferError:
                # The local queue is full: serve delivery reports until there is room.
                self._producer.poll(0.5)
            except KafkaException as exc:
                raise PublishError(f"{topic} {key}: {exc.args[0].str()}") from exc
        self._producer.poll(0)
