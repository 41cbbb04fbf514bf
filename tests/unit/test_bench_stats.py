"""The bench's pure parts: percentiles, and reading Kafka's perf tools' summaries."""

from __future__ import annotations

from bench.broker import consumed_per_s, produced_per_s
from bench.stats import percentiles


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 1..100, unordered
    assert percentiles(values, (50, 95, 99, 100)) == {50: 50.0, 95: 95.0, 99: 99.0, 100: 100.0}
    assert percentiles([7.0], (50, 99)) == {50: 7.0, 99: 7.0}
    assert percentiles([], (50,)) == {50: 0.0}


def test_the_perf_tools_summaries_are_read() -> None:
    produced = (
        "49997 records sent, 9999.4 records/sec (3.81 MB/sec), 5.2 ms avg latency.\n"
        "100000 records sent, 12345.6 records/sec (4.71 MB/sec), 4.1 ms avg latency, "
        "250.0 ms max latency, 3 ms 50th, 9 ms 95th, 20 ms 99th, 40 ms 99.9th.\n"
    )
    assert produced_per_s(produced) == 12345.6
    consumed = (
        "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, "
        "rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n"
        "2026-11-29 17:00:00:000, 2026-11-29 17:00:02:000, 38.1, 19.07, 100000, 50000.0, "
        "300, 1700, 22.4, 58823.5\n"
    )
    assert consumed_per_s(consumed) == 50000.0
