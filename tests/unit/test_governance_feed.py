"""A worker switches to a governance version only once it has read all of it.

The records of one apply arrive on several topics, in no common order with their version
mark; these tests hand the feed messages in the orders the broker may deliver them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from governance import codec
from governance.models import Agreement, Bank, Status, VersionMark
from schemas import names
from streams.governance_feed import GovernanceFeed

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@dataclass
class Msg:
    """The part of a confluent_kafka Message the feed reads."""

    _topic: str
    _partition: int
    _offset: int
    _key: bytes | None
    _value: bytes | None

    def topic(self) -> str:
        return self._topic

    def partition(self) -> int:
        return self._partition

    def offset(self) -> int:
        return self._offset

    def key(self) -> bytes | None:
        return self._key

    def value(self) -> bytes | None:
        return self._value


def record_msg(record: codec.Stored, version: int, offset: int) -> Msg:
    key = codec.key_of(record).encode()
    return Msg(codec.topic_of(record), 0, offset, key, codec.encode(record, version))


def mark_msg(version: int, offsets: dict[str, int], offset: int) -> Msg:
    mark = VersionMark(version=version, applied_at=NOW, source="test", offsets=offsets)
    return Msg(names.GOVERNANCE_LOG, 0, offset, mark.key.encode(), codec.encode(mark, version))


AGREEMENT = Agreement(
    id="ccb-1",
    bank="ccb",
    purpose="p",
    effective_from=NOW,
    effective_until=NOW.replace(year=2027),
)
BANK = Bank(id="ccb", name_en="China Construction Bank", name_zh="建设银行")


def feed() -> GovernanceFeed:
    return GovernanceFeed({"bootstrap.servers": "127.0.0.1:1"})


def test_a_version_comes_into_force_only_when_every_record_of_it_was_read() -> None:
    f = feed()
    offsets = {f"{names.PARTIES}/0": 0, f"{names.AGREEMENTS}/0": 0}
    # The mark and the bank are read; the agreement (on another topic) not yet.
    f.apply(mark_msg(5, offsets, 0))  # type: ignore[arg-type]
    f.apply(record_msg(BANK, 5, 0))  # type: ignore[arg-type]
    f.after_batch(True)
    assert f.current.version == 0 and not f.current.banks, "half a version is not in force"
    f.apply(record_msg(AGREEMENT, 5, 0))  # type: ignore[arg-type]
    f.after_batch(True)
    assert f.current.version == 5
    assert set(f.current.banks) == {"ccb"} and set(f.current.agreements) == {"ccb-1"}


def test_records_of_a_later_version_wait_for_its_mark() -> None:
    f = feed()
    f.apply(record_msg(BANK, 5, 0))  # type: ignore[arg-type]
    f.apply(record_msg(AGREEMENT, 5, 0))  # type: ignore[arg-type]
    marks = {f"{names.PARTIES}/0": 0, f"{names.AGREEMENTS}/0": 0}
    f.apply(mark_msg(5, marks, 0))  # type: ignore[arg-type]
    suspended = AGREEMENT.model_copy(update={"status": Status.suspended})
    f.apply(record_msg(suspended, 9, 1))  # type: ignore[arg-type]
    f.after_batch(True)
    assert f.current.version == 5
    assert f.current.agreements["ccb-1"].status is Status.active, "version 9 has no mark yet"
    f.apply(mark_msg(9, {f"{names.AGREEMENTS}/0": 1}, 1))  # type: ignore[arg-type]
    f.after_batch(True)
    assert f.current.version == 9
    assert f.current.agreements["ccb-1"].status is Status.suspended


def test_an_offset_removed_by_compaction_is_passed_at_the_end_of_the_partition() -> None:
    f = feed()
    f.apply(record_msg(BANK, 5, 0))  # type: ignore[arg-type]
    f.apply(mark_msg(5, {f"{names.PARTIES}/0": 0, f"{names.AGREEMENTS}/0": 3}, 0))  # type: ignore[arg-type]
    f.after_batch(True)
    assert f.current.version == 0
    # Offset 3 of the agreements was compacted away (a later version replaced it).
    assert f.at_end(names.AGREEMENTS, 0, 7)
    f.after_batch(True)
    assert f.current.version == 5 and set(f.current.banks) == {"ccb"}
