"""Workers on one host need no configuration: each one without a set port takes a free
one and says where. A worker missing a hash key its grants in force need does not start."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.integration.conftest import (
    TEST_MASK_KEYS,
    Endpoints,
    WorkerProcess,
    spawn_worker,
    stop_worker,
    wait_for,
)


def default_port_worker(endpoints: Endpoints, folder: Path, app_id: str) -> WorkerProcess:
    """`sharebus worker` as an operator starts a second one: no port configured."""
    worker = spawn_worker(endpoints, folder, app_id, port=0)

    def announced() -> int | None:
        found = re.search(r"status page: http://127\.0\.0\.1:(\d+)/status", worker.output())
        return int(found.group(1)) if found else None

    worker.port = wait_for(announced, timeout=120, what="the worker to say its status port")
    return worker


def test_two_workers_on_one_host_both_serve_their_status(
    endpoints: Endpoints, sample_governance: int, tmp_path: Path, unique: str
) -> None:
    app_id = f"test-pair-{unique}"
    first = default_port_worker(endpoints, tmp_path / "one", app_id)
    second = default_port_worker(endpoints, tmp_path / "two", app_id)
    try:
        assert first.port != second.port
        for worker in (first, second):
            status = worker.wait_governance(sample_governance, timeout=180)
            assert status["app_id"] == app_id
        assert first.alive() and second.alive()
    finally:
        stop_worker(first)
        stop_worker(second)


def test_a_worker_without_a_needed_hash_key_refuses_to_start(
    endpoints: Endpoints, sample_governance: int, tmp_path: Path, unique: str
) -> None:
    keys = {bank: key for bank, key in TEST_MASK_KEYS.items() if bank != "bosc"}
    worker = spawn_worker(endpoints, tmp_path, f"test-nokey-{unique}", mask_keys=json.dumps(keys))
    code = worker.proc.wait(timeout=120)
    assert code == 1
    output = worker.output()
    assert "Traceback" not in output
    # The worker logs at info by default: its last line is the one error.
    last = output.strip().splitlines()[-1]
    assert last.startswith("error: no hash key for bank bosc (bosc-risk-2026 ")
    assert output.count("error:") == 1
