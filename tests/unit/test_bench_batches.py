"""What `make bench` reports of the batches the broker stored: parsed from the lines of
Kafka's DumpLogSegments, as Kafka 4.1 prints them."""

from __future__ import annotations

from bench.batches import Batches
from bench.worker import Result, median_of

DATA = (
    "baseOffset: 0 lastOffset: 1159 count: 1160 baseSequence: 0 lastSequence: 1159 "
    "producerId: 11 producerEpoch: 0 partitionLeaderEpoch: 0 isTransactional: true "
    "isControl: false deleteHorizonMs: OptionalLong.empty position: 0 "
    "CreateTime: 1795997227312 size: 144812 magic: 2 compresscodec: lz4 crc: 1180885720 "
    "isvalid: true"
)
MARKER = (
    "baseOffset: 1160 lastOffset: 1160 count: 1 baseSequence: -1 lastSequence: -1 "
    "producerId: 11 producerEpoch: 0 partitionLeaderEpoch: 0 isTransactional: true "
    "isControl: true deleteHorizonMs: OptionalLong.empty position: 144812 "
    "CreateTime: 1795997227698 size: 78 magic: 2 compresscodec: none crc: 4050419410 "
    "isvalid: true"
)
PLAIN = DATA.replace("count: 1160", "count: 40").replace(
    "compresscodec: lz4", "compresscodec: none"
)


def test_records_per_batch_and_compression_leave_transaction_markers_apart() -> None:
    tally = Batches()
    for line in (DATA, MARKER, PLAIN, "Log starting offset: 0"):
        tally.add(line)
    assert (tally.records, tally.batches, tally.markers) == (1200, 2, 1)
    assert tally.per_batch == 600.0
    assert tally.compression == "lz4, none"  # by records: most first


def test_nothing_stored_reads_as_nothing() -> None:
    assert Batches().per_batch == 0.0
    assert Batches().compression == "-"


def test_the_median_run_is_the_middle_one_by_speed() -> None:
    runs = [Result("w", 1000, seconds, 0, 0.0, 0.0) for seconds in (1.0, 2.0, 4.0)]
    assert median_of(runs).seconds == 2.0
    assert median_of(runs[:2]).seconds == 2.0  # of two, the slower
