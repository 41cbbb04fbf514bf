"""`sharebus publish` can be run again: every line's event id is derived from the line, so a
second run sends the ids of the first, and a stop whose deliveries are unknown says how
many were confirmed, how many are unknown, and that a re-run is safe."""

from __future__ import annotations

import io
import json
import os
import signal
import time
from pathlib import Path

import pytest

from foundation.settings import KafkaSettings, get_stack_settings
from governance.topics import Topics, source_spec
from producers.coerce import to_json
from producers.files import read_lines
from producers.ids import event_id
from schemas.catalog import load_catalog
from sharebus.stack.local import LocalStack
from synthetic.generate import population, records
from tests.integration.conftest import Endpoints, run_cli, start_cli
from tests.integration.reading import end_offsets, header, read_since, read_to_end

CATEGORY = "tax.payment-record"
CAT = load_catalog().get(CATEGORY)


@pytest.fixture(scope="module")
def topics(kafka_settings: KafkaSettings) -> None:
    Topics(kafka_settings).ensure([source_spec(CATEGORY)])


def lines(n: int, seed: int) -> list[str]:
    return [to_json(r) for r in records(CAT, population(200, seed=seed), n, seed=seed)]


def expected_ids(text: str) -> list[str]:
    """The ids the CLI gives this input: what the id function says, line by line."""
    out = []
    for line in read_lines(io.BytesIO(text.encode()), "jsonl", CAT, "c"):
        e = line.event
        assert e is not None, line.problem
        out.append(
            e.event_id or event_id("tax", CATEGORY, e.uscc, e.op, e.before, e.after, line.number)
        )
    return out


def test_a_file_published_twice_carries_the_same_event_ids_both_times(
    endpoints: Endpoints, kafka_settings: KafkaSettings, topics: None, tmp_path: Path
) -> None:
    rows = lines(30, seed=61)
    # The same record twice (two lines, two events) and a line with an id of its own.
    own = json.dumps({"op": "u", "after": json.loads(rows[0]), "event_id": "erp-61-1"})
    path = tmp_path / "payments.jsonl"
    path.write_text("\n".join([*rows, rows[3], own]) + "\n", encoding="utf-8")

    runs = []
    for _ in range(2):
        start = end_offsets(kafka_settings, CAT.topic)
        result = run_cli(endpoints, "publish", "--agency=tax", f"--category={CATEGORY}", str(path))
        assert result.returncode == 0, result.stderr
        got = read_to_end(kafka_settings, start)
        runs.append(sorted(header(m, "ce_id") or "" for m in got))

    assert len(runs[0]) == 32 and len(set(runs[0])) == 32, "every line is its own event"
    assert runs[1] == runs[0], "a second run sends the ids of the first"
    assert runs[0] == sorted(expected_ids(path.read_text(encoding="utf-8")))
    assert "erp-61-1" in runs[0]


def test_a_broker_gone_at_the_flush_leaves_counts_and_a_safe_rerun(
    endpoints: Endpoints, kafka_settings: KafkaSettings, topics: None
) -> None:
    """The broker stops answering (SIGSTOP) after 40 lines were confirmed and before 40 more
    are: the summary counts both, says a re-run is safe, exit 1, no traceback; the re-run
    leaves every line's id on the topic."""
    stack = LocalStack(get_stack_settings(), report=lambda line: None)
    kafka = next((c for c in stack.status() if c.name == "kafka" and c.running), None)
    if kafka is None or kafka.pid is None:
        pytest.fail("this test pauses the local stack's broker; none is running")
    rows = lines(80, seed=62)
    text = "\n".join(rows) + "\n"
    start = end_offsets(kafka_settings, CAT.topic)
    proc = start_cli(
        endpoints, "publish", "--agency=tax", f"--category={CATEGORY}", "--timeout=5", "-"
    )
    paused = False
    try:
        assert proc.stdin is not None
        proc.stdin.write("\n".join(rows[:40]) + "\n")
        proc.stdin.flush()
        first = read_since(kafka_settings, start, lambda m: len(m) >= 40, timeout=60)
        assert len(first) == 40
        os.kill(kafka.pid, signal.SIGSTOP)
        paused = True
        _, stderr = proc.communicate("\n".join(rows[40:]) + "\n", timeout=90)
    finally:
        if paused:
            os.kill(kafka.pid, signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    said = stderr.strip().splitlines()
    assert said[0] == (
        "error: publishing stopped: 40 messages not confirmed within 5s (they may have arrived)"
    )
    assert said[1].startswith(
        "confirmed 40 lines, the last of them line 40; unknown 40 (sent, not confirmed: "
        "they may have arrived); every line up to 40 was delivered or rejected"
    )
    assert said[2].startswith("re-running the whole file is safe: each line is sent again")
    assert "nothing on the bus drops repeats by id" in said[2]

    time.sleep(1)
    rerun = run_cli(endpoints, "publish", "--agency=tax", f"--category={CATEGORY}", "-", stdin=text)
    assert rerun.returncode == 0, rerun.stderr
    on_topic = {header(m, "ce_id") for m in read_to_end(kafka_settings, start)}
    assert on_topic == set(expected_ids(text)), "every line is there, under its own id"
