"""An event whose processing raises ends as a dead letter with the reason, never as
nothing; a registry outage is an outage to wait out, not a dead letter."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from foundation import headers as h
from foundation.settings import KafkaSettings, WorkerSettings
from governance.models import Governance
from schemas.catalog import load_catalog
from schemas.errors import RegistryUnavailable
from schemas.serde import AvroSerde, registry_client
from streams.fanout import Decoded, FanOut, Source
from streams.governance_feed import GovernanceFeed
from streams.pipeline import Outage, Pipeline
from streams.profile_feed import ProfileFeed

CONF = {"bootstrap.servers": "127.0.0.1:1"}


@dataclass
class Msg:
    """The part of a confluent_kafka Message the loop reads."""

    _value: bytes | None = b"\x00\x00\x00\x00\x01payload"

    def topic(self) -> str:
        return "pub.tax.payment-record"

    def partition(self) -> int:
        return 1

    def offset(self) -> int:
        return 41

    def key(self) -> bytes:
        return b"91310000MA1FL0001A"

    def value(self) -> bytes | None:
        return self._value

    def headers(self) -> list[tuple[str, bytes]]:
        return [("ce_id", b"event-1")]


class Raising(FanOut):
    """A fan-out whose decision step fails the way a bug would."""

    def __init__(self, error: Exception) -> None:
        serde = AvroSerde(registry_client({"url": f"mock://{uuid.uuid4().hex}"}))
        super().__init__(load_catalog(), serde, {})
        self.error = error

    def decode(self, msg: Source) -> Decoded:
        from governance.decision import Event

        return Decoded(Event("tax.payment-record", "c", "u", None, {}), {}, 0)

    def fan(self, *args: Any, **kwargs: Any) -> Any:
        raise self.error


def pipeline(error: Exception) -> Pipeline:
    # No broker is reached here: no credential either.
    kafka = KafkaSettings(
        bootstrap="127.0.0.1:1", registry_url="http://127.0.0.1:1", security_protocol="PLAINTEXT"
    )
    fanout = Raising(error)
    feed = GovernanceFeed(CONF)
    profiles = ProfileFeed(CONF, fanout.serde)
    feed.ready.set()
    profiles.ready.set()
    return Pipeline(kafka, WorkerSettings(), fanout, feed, profiles)


def test_an_event_that_raises_becomes_a_dead_letter_with_the_reason() -> None:
    p = pipeline(KeyError("decided_at"))
    (out,) = p._event(Msg(), Governance())  # type: ignore[arg-type]
    headers = dict(out.headers)
    assert out.topic == "sharebus.dlq"
    assert headers[h.DLQ_REASON] == b"processing failed: KeyError: 'decided_at'"
    assert headers[h.SOURCE_POSITION] == b"pub.tax.payment-record/1/41"
    assert out.value == Msg()._value, "the original bytes are kept for a replay"
    assert p.counters["dead_letters"] == 1


def test_a_registry_outage_is_an_outage_not_a_dead_letter() -> None:
    p = pipeline(RegistryUnavailable("schema registry unreachable"))
    with pytest.raises(Outage, match="unreachable"):
        p._event(Msg(), Governance())  # type: ignore[arg-type]
    assert p.counters["dead_letters"] == 0


def test_no_event_is_decided_while_a_feed_is_being_read_again() -> None:
    p = pipeline(KeyError("never reached"))
    p.profiles.ready.clear()
    with pytest.raises(Outage, match="being read again"):
        p._event(Msg(), Governance())  # type: ignore[arg-type]
