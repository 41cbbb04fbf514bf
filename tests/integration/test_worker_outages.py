"""The worker lives through outages: Kafka down at start is waited for and SIGTERM still
stops it; a registry outage is waited out, never turned into dead letters or denials."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from foundation.settings import KafkaSettings, get_stack_settings
from producers.publisher import Publisher
from schemas import names
from schemas.catalog import load_catalog
from schemas.serde import AvroSerde, registry_client
from sharebus.stack.local import LocalStack
from synthetic.generate import population, records
from tests.integration.conftest import (
    Endpoints,
    WorkerProcess,
    spawn_worker,
    stop_worker,
    wait_for,
)
from tests.integration.reading import audit_until, end_offsets, group_at_end, read_since


def test_a_worker_started_while_kafka_is_down_waits_says_so_once_and_stops_on_sigterm(
    endpoints: Endpoints, tmp_path: Path
) -> None:
    # Nothing answers there: no credential is needed to find that out.
    down = Endpoints("127.0.0.1:1", endpoints.registry_url, "PLAINTEXT")
    worker = spawn_worker(down, tmp_path, f"test-down-{uuid.uuid4().hex[:8]}")
    try:
        wait_for(lambda: "waiting for Kafka" in worker.output(), 60, what="the waiting line")
        time.sleep(3)
        assert worker.alive(), worker.output()
        assert worker.output().count("waiting for Kafka") == 1, "once per interval, not per try"
        worker.proc.send_signal(signal.SIGTERM)
        assert worker.proc.wait(timeout=20) == 0
        assert "Traceback" not in worker.output()
    finally:
        stop_worker(worker)


def _health(worker: WorkerProcess) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{worker.port}/health", timeout=2) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def test_a_registry_outage_is_waited_out_not_turned_into_dead_letters_or_denials(
    endpoints: Endpoints,
    kafka_settings: KafkaSettings,
    sample_governance: int,
    tmp_path: Path,
) -> None:
    stack = LocalStack(get_stack_settings(), report=lambda line: None)
    if not any(c.name == "registry" and c.running for c in stack.status()):
        pytest.fail("this test stops and starts the local stack's registry; none is running")
    group = f"test-outage-{uuid.uuid4().hex[:8]}"
    group_at_end(kafka_settings, group)
    # Encoded while the registry answers; sent while it does not.
    cat = load_catalog().get("market.penalty")
    serde = AvroSerde(registry_client(kafka_settings.registry()))
    people = population(40, seed=int(group[-6:], 16) % 1000)
    source = {"agency": "market", "system": "test", "sequence": 1}
    events: list[tuple[bytes, bytes, str]] = []
    for row in records(cat, people, 20, seed=9):
        envelope = {"op": "c", "before": None, "after": row, "source": source, "ts_ms": 0}
        event_id = uuid.uuid4().hex
        events.append(
            (row["uscc"].encode(), serde.encode(cat.subject, cat.envelope(), envelope), event_id)
        )
    dlq_start = end_offsets(kafka_settings, names.DLQ)
    audit_start = end_offsets(kafka_settings, names.AUDIT)

    stack.stop("registry")
    worker = spawn_worker(endpoints, tmp_path, group)
    try:
        raw = Producer(kafka_settings.librdkafka())
        for key, value, event_id in events:
            raw.produce(cat.topic, key=key, value=value, headers=[("ce_id", event_id.encode())])
        assert raw.flush(10) == 0
        time.sleep(8)
        assert worker.alive(), worker.output()[-3000:]
        assert _health(worker) == 503, "not processing: the health check says so"
        stack.up()
        ids = {e[2] for e in events}
        audit = audit_until(kafka_settings, audit_start, ids, timeout=180)
        decided = {(a["event_id"], a["bank"]) for a in audit}
        assert len(decided) == 4 * len(ids), worker.output()[-3000:]
        assert not [a for a in audit if a["reason"] == "error"], "an outage is no denial"
        ours = {e[0] for e in events}
        dead = read_since(kafka_settings, dlq_start, lambda m: False, timeout=3)
        assert not [m for m in dead if m.key() in ours], "an outage makes no dead letters"
        wait_for(lambda: _health(worker) == 200, 60, what="healthy again")
        status: dict[str, Any] = worker.status() or {}
        assert status["state"] == "running" and status["dead_letters"] == 0, json.dumps(status)
    finally:
        if not any(c.name == "registry" and c.running for c in stack.status()):
            stack.up()
        stop_worker(worker)


def test_sigkill_of_a_worker_loses_nothing_and_duplicates_nothing_for_a_committed_reader(
    endpoints: Endpoints, kafka_settings: KafkaSettings, sample_governance: int, tmp_path: Path
) -> None:
    """Each batch's outputs and source offsets commit in one transaction: a worker killed
    mid-stream leaves no half of a batch visible, and its successor does the rest once."""
    group = f"test-kill-{uuid.uuid4().hex[:8]}"
    group_at_end(kafka_settings, group)
    cat = load_catalog().get("market.penalty")
    people = population(300, seed=11)
    audit_start = end_offsets(kafka_settings, names.AUDIT)
    first = spawn_worker(endpoints, tmp_path / "a", group)
    second: WorkerProcess | None = None
    ids: set[str] = set()
    try:
        first.wait_governance(sample_governance)
        with Publisher(agency="market", settings=kafka_settings) as pub:
            for i, row in enumerate(records(cat, people, 2000, seed=5)):
                ids.add(pub.publish(cat.id, "c", row["uscc"], after=row))
                if i == 600:
                    first.proc.kill()  # SIGKILL, mid-stream
                    first.proc.wait()
                    second = spawn_worker(endpoints, tmp_path / "b", group)
        assert second is not None
        audit = audit_until(kafka_settings, audit_start, ids, timeout=240)
        pairs = [(a["event_id"], a["bank"]) for a in audit]
        assert set(pairs) == {(i, b) for i in ids for b in ("bocom", "bosc", "ccb", "spdb")}
        assert len(pairs) == len(set(pairs)), "exactly one audit record per (event, bank)"
    finally:
        stop_worker(first)
        if second is not None:
            stop_worker(second)
