"""The profile map only moves forward: a late read of an older registration never wins."""

import uuid

from schemas.serde import AvroSerde, registry_client
from streams.profile_feed import ProfileFeed


def feed() -> ProfileFeed:
    serde = AvroSerde(registry_client({"url": f"mock://{uuid.uuid4().hex}"}))
    return ProfileFeed({"bootstrap.servers": "127.0.0.1:1"}, serde)


def test_a_later_offset_wins_and_an_earlier_one_is_ignored() -> None:
    profiles = feed()
    profiles.record(b"k", 10, {"scale": "SMALL"})
    profiles.record(b"k", 9, {"scale": "LARGE"})
    assert profiles.get(b"k") == {"scale": "SMALL"}
    profiles.record(b"k", 11, {"scale": "MEDIUM"})
    assert profiles.get(b"k") == {"scale": "MEDIUM"}


def test_a_deleted_enterprise_has_no_profile() -> None:
    profiles = feed()
    profiles.record(b"k", 1, {"scale": "MICRO"})
    profiles.record(b"k", 2, None)
    assert profiles.get(b"k") is None
    assert profiles.get(None) is None
    assert len(profiles) == 0
