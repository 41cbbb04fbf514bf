"""What an operator watches of a running worker: `/metrics` moving by exactly what was
published, decisions by bank and reason as the audit has them, `/status` with lag and the
broker's and registry's health, a 503 health check when it cannot process, and JSON log
lines with no enterprise's code or name in them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer
from prometheus_client.parser import text_string_to_metric_families

from foundation.settings import KafkaSettings
from producers.publisher import Publisher
from schemas import names
from schemas.catalog import load_catalog
from streams.metrics import ConsumerLag
from synthetic.generate import population, records
from tests.integration.conftest import (
    Endpoints,
    WorkerProcess,
    spawn_worker,
    stop_worker,
    wait_for,
)
from tests.integration.reading import audit_until, end_offsets, group_at_end

CATEGORY = "market.penalty"


def _get(worker: WorkerProcess, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{worker.port}{path}", timeout=10) as r:
            return int(r.status), r.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def _metrics(worker: WorkerProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    code, body = _get(worker, "/metrics")
    assert code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def test_metrics_move_by_the_published_events_status_has_lag_and_logs_are_json(
    endpoints: Endpoints,
    kafka_settings: KafkaSettings,
    sample_governance: int,
    tmp_path: Path,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group = f"test-metrics-{unique}"
    group_at_end(kafka_settings, group)  # this worker sees only what the test publishes
    monkeypatch.setenv("SHAREBUS_LOG_FORMAT", "json")
    worker = spawn_worker(endpoints, tmp_path, group)
    cat = load_catalog().get(CATEGORY)
    rows = list(records(cat, population(60, seed=int(unique[:6], 16) % 997), 150, seed=3))
    try:
        worker.wait_governance(sample_governance, timeout=180)
        before = _metrics(worker)
        assert not [k for k in before if k[0] == "sharebus_worker_events_total"]
        audit_start = end_offsets(kafka_settings, names.AUDIT)
        with Publisher(agency="market", settings=kafka_settings) as pub:
            ids = {pub.publish(cat.id, "c", row["uscc"], after=row) for row in rows}
        # This worker's decisions (the session's worker may decide the same events too),
        # committed with the source offsets: its counts are final by then.
        audit = audit_until(kafka_settings, audit_start, ids, timeout=180, group=group)
        after = _metrics(worker)
        assert after[("sharebus_worker_events_total", (("topic", cat.topic),))] == len(rows)
        decided = Counter((a["bank"], a["reason"]) for a in audit)
        scraped = {
            (dict(labels)["bank"], dict(labels)["reason"]): value
            for (name, labels), value in after.items()
            if name == "sharebus_worker_decisions_total"
        }
        assert scraped == decided, "decisions by bank and reason, as the audit has them"
        assert after[("sharebus_worker_processing_seconds_count", ())] == len(rows)
        assert after[("sharebus_worker_dead_letters_total", ())] == 0
        assert after[("sharebus_worker_failed_batches_total", ())] == 0
        assert after[("sharebus_worker_governance_version", ())] >= sample_governance
        assert after[("sharebus_worker_processing", ())] == 1

        audited = datetime.now(UTC)

        def caught_up() -> dict[str, Any] | None:
            lag = (status := worker.status() or {}).get("lag") or {}
            at = lag.get("measured_at")
            fresh = at is not None and datetime.fromisoformat(at) > audited
            return status if fresh and lag["total"] == 0 else None

        status = wait_for(caught_up, 30, what="the worker's lag measured at 0")
        owned = {(p["topic"], p["partition"]) for p in status["lag"]["partitions"]}
        assert {(cat.topic, p) for p in range(3)} <= owned, "every owned source partition"
        assert status["kafka"]["ok"] and status["registry"]["ok"], json.dumps(status)
        assert _get(worker, "/health")[0] == 200
    finally:
        stop_worker(worker)
    lines = worker.output().strip().splitlines()
    assert lines, "the worker logged nothing"
    for line in lines:
        parsed = json.loads(line)  # every line: no banner, no plain-text line
        assert {"time", "level", "logger", "message"} <= set(parsed), line
    personal = {row["uscc"] for row in rows} | {row["enterprise_name"] for row in rows}
    assert not [p for p in personal if p in worker.output()], "no enterprise code or name"


def test_a_worker_that_cannot_reach_the_registry_says_so_with_a_503(
    endpoints: Endpoints, sample_governance: int, tmp_path: Path, unique: str
) -> None:
    # Nothing answers there: the same outage as the registry stopped, for this worker only.
    unreachable = "http://127.0.0.1:1/apis/ccompat/v7"
    down = Endpoints(endpoints.bootstrap, unreachable, endpoints.security_protocol)
    worker = spawn_worker(down, tmp_path, f"test-noreg-{unique}")
    try:
        worker.wait_governance(sample_governance, timeout=180)
        code, body = _get(worker, "/health")
        assert code == 503, body
        assert "schema registry unreachable at http://127.0.0.1:1" in json.loads(body)["problem"]
        status = worker.status() or {}
        assert status["state"] == "waiting"
        assert not status["registry"]["ok"] and status["registry"]["address"] == unreachable
        assert status["kafka"]["ok"], json.dumps(status)
        assert _metrics(worker)[("sharebus_worker_processing", ())] == 0
    finally:
        stop_worker(worker)
    assert "Traceback" not in worker.output()


def test_lag_is_what_a_consumer_has_left_to_read(
    kafka_settings: KafkaSettings, sample_governance: int, unique: str
) -> None:
    """The loop's measurement against a real consumer: end minus position per partition,
    and the committed offset for a partition that has handed nothing over yet."""
    cat = load_catalog().get(CATEGORY)
    with Publisher(agency="market", settings=kafka_settings) as pub:
        for row in records(cat, population(30, seed=5), 40, seed=8):
            pub.publish(cat.id, "c", row["uscc"], after=row)
    ends = {tp.partition: tp.offset for tp in end_offsets(kafka_settings, cat.topic)}
    consumer = Consumer(
        {
            **kafka_settings.librdkafka(),
            "group.id": f"test-lag-{unique}",
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.subscribe([cat.topic])
        taken = wait_for(lambda: consumer.consume(10, 1.0), 60, what="a first few events")
        lag = ConsumerLag(every=0)

        def every_partition() -> bool:
            lag.measure(consumer)  # a partition not fetched from yet has no end: not counted
            return set(lag.partitions) == {(cat.topic, p) for p in ends}

        wait_for(every_partition, 30, what="the end of every partition seen by the client")
        read = Counter(m.partition() for m in taken)
        for partition, end in ends.items():
            # Unread partitions: nothing committed, so from the start (offset 0).
            assert lag.partitions[(cat.topic, partition)] == end - read_up_to(taken, partition)
        assert lag.total == sum(ends.values()) - sum(read.values())
    finally:
        consumer.close()


def read_up_to(taken: list[Any], partition: int) -> int:
    offsets = [m.offset() + 1 for m in taken if m.partition() == partition]
    return max(offsets, default=0)
