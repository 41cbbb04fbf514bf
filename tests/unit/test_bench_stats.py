"""The bench's pure parts: percentiles, reading Kafka's perf tools' summaries, and the
scale run's governance."""

from __future__ import annotations

from pathlib import Path

from bench.broker import consumed_per_s, produced_per_s
from bench.stats import percentiles
from bench.worker import every_bank_every_category
from foundation.settings import PROJECT_ROOT
from governance.loader import governance_from_dir
from governance.models import Status
from schemas.catalog import load_catalog


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


def test_the_scale_governance_grants_every_bank_every_category(tmp_path: Path) -> None:
    sample = PROJECT_ROOT / "examples" / "governance"
    added = every_bank_every_category(sample, tmp_path / "governance")
    catalog = load_catalog()
    before = governance_from_dir(sample, catalog)
    after = governance_from_dir(tmp_path / "governance", catalog)  # valid: no overlaps
    pairs = {
        (a.bank, g.category)
        for a in after.agreements.values()
        if a.status is Status.active
        for g in a.grants
    }
    named = {(a.bank, g.category) for a in before.agreements.values() for g in a.grants}
    wanted = {(bank, c.id) for bank in before.active_banks() for c in catalog}
    # Every pair but those a non-active sample agreement already names is granted in force.
    assert wanted - named <= pairs
    assert added == len(wanted - named)
    assert len(pairs) > 1200
    personal = {(c.id, f.name) for c in catalog for f in c.fields if f.sensitivity == "personal"}
    for agreement in after.agreements.values():
        if agreement.id.endswith("-bench-scale"):
            assert not {(g.category, f) for g in agreement.grants for f in g.fields} & personal
