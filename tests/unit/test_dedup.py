"""The de-duplication rule of the subscriber, without a broker."""

from __future__ import annotations

from consumers.dedup import SourcePosition, Watermarks

SRC = "pub.tax.payment-record"


def at(offset: int, partition: int = 1) -> SourcePosition:
    return SourcePosition(SRC, partition, offset)


def test_positions_parse_and_print_as_the_header_says() -> None:
    position = SourcePosition.parse(f"{SRC}/2/1234")
    assert position == SourcePosition(SRC, 2, 1234)
    assert str(position) == f"{SRC}/2/1234"
    assert SourcePosition.parse(None) is None
    assert SourcePosition.parse("garbage") is None
    assert SourcePosition.parse(f"{SRC}/x/1") is None


def test_a_replayed_live_event_is_dropped_and_newer_ones_pass() -> None:
    marks = Watermarks()
    assert [marks.admit(at(o)) for o in (5, 6, 7)] == [True, True, True]
    # A worker restart sends 6 and 7 again, then goes on with 8.
    assert [marks.admit(at(o)) for o in (6, 7, 8)] == [False, False, True]


def test_source_partitions_are_tracked_apart() -> None:
    marks = Watermarks()
    assert marks.admit(at(100, partition=0))
    assert marks.admit(at(3, partition=1)), "a lower offset of another partition is not a replay"


def test_erasures_and_unpositioned_messages_are_never_dropped() -> None:
    marks = Watermarks()
    assert marks.admit(at(9))
    assert marks.admit(at(9), erasure=True)
    assert marks.admit(at(2), erasure=True), "a retraction names an older position"
    assert marks.admit(None)
    assert marks.admit(None)
    assert marks.admit(at(10)), "erasures leave the live watermark where it was"


def test_a_second_backfill_run_passes_only_newer_state() -> None:
    marks = Watermarks()
    assert marks.admit(at(500))  # live, before the backfill
    first = [marks.admit(at(o), backfill=True) for o in (3, 40, 77)]
    assert first == [True, True, True], "old positions the live stream never carried"
    second = [marks.admit(at(o), backfill=True) for o in (3, 40, 90)]
    assert second == [False, False, True], "only the record updated since is new"
    assert not marks.admit(at(500)), "backfill does not disturb the live watermark"


def test_watermarks_survive_commit_metadata() -> None:
    marks = Watermarks()
    marks.admit(at(41))
    marks.admit(at(7), backfill=True)
    restored = Watermarks.from_metadata(marks.to_metadata())
    assert not restored.admit(at(41))
    assert not restored.admit(at(7), backfill=True)
    assert restored.admit(at(42))
    assert len(marks.to_metadata()) < 4096


def test_foreign_or_broken_metadata_starts_afresh() -> None:
    for text in (None, "", "not json", '{"other": 1}', "[1, 2]", '{"sharebus": 1, "seen": 3}'):
        assert Watermarks.from_metadata(text).admit(at(1))
