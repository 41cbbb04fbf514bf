"""`sharebus consume` as a bank runs it: checked against the governance in force, each
event once across Ctrl-C, JSON lines or CSV with ISO 8601 timestamps."""

from __future__ import annotations

import csv
import io
import json
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from foundation.settings import PROJECT_ROOT, KafkaSettings
from tests.integration.bank_flow import (
    BANK,
    CATEGORY,
    EXPECTED,
    TOPIC,
    assert_once_in_order,
    enterprises,
    publish_histories,
    read_jsonl,
)
from tests.integration.conftest import Endpoints, WorkerProcess, run_cli, wait_for
from tests.integration.reading import end_offsets, read_since

ISO_INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_an_unknown_bank_is_a_usage_error_naming_the_banks(
    endpoints: Endpoints, sample_governance: int
) -> None:
    result = run_cli(endpoints, "consume", "--bank", "nosuch", "--idle", "1")
    assert result.returncode == 2
    assert "unknown bank 'nosuch': one of " in result.stderr
    assert all(bank in result.stderr for bank in ("bocom", "bosc", "ccb", "spdb"))
    assert "Traceback" not in result.stderr


def test_an_ungranted_category_is_refused_naming_what_is_granted(
    endpoints: Endpoints, sample_governance: int
) -> None:
    result = run_cli(endpoints, "consume", "--bank", "ccb", "--category", CATEGORY)
    assert result.returncode == 1
    refused, _, granted = result.stderr.partition("; granted: ")
    assert refused == "error: bank ccb is not granted court.judgment"
    # The sample grants of ccb (other tests may add more to the governance in force).
    assert {"hrss.social-insurance", "tax.credit-rating", "tax.payment-record"} <= set(
        granted.strip().split(", ")
    )
    unknown = run_cli(endpoints, "consume", "--bank", "ccb", "--category", "tax.nothing")
    assert unknown.returncode == 2
    assert "unknown category 'tax.nothing'" in unknown.stderr
    assert "tax.payment-record" in unknown.stderr
    wrong = run_cli(endpoints, "consume", "--bank", "ccb", "--format", "xml")
    assert wrong.returncode == 2
    assert "--format xml: use jsonl or csv" in wrong.stderr


def _delivered(settings: KafkaSettings, since: list, keys: set[str], want: int) -> None:  # type: ignore[type-arg]
    def mine(messages: list) -> int:  # type: ignore[type-arg]
        return sum(1 for m in messages if m.key().decode() in keys)

    got = mine(read_since(settings, since, lambda m: mine(m) >= want, timeout=120))
    assert got >= want, f"the worker delivered {got} of {want} messages"


def test_ctrl_c_loses_nothing_and_the_next_run_repeats_nothing(
    endpoints: Endpoints, kafka_settings: KafkaSettings, worker: WorkerProcess, unique: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    ents = enterprises(unique, 8)
    early, late = ents[:4], ents[4:]
    late_keys = {e.uscc for e in late}
    since = end_offsets(kafka_settings, TOPIC)
    publish_histories(kafka_settings, early)
    out = tmp_path / "events.jsonl"
    group = f"{BANK}.cli-{unique}"
    args = ["consume", "--bank", BANK, "--category", CATEGORY, "--group", group, "--out", str(out)]
    log = tmp_path / "stderr.log"
    with open(log, "w") as stderr_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sharebus.cli", *args],
            env=endpoints.env(), cwd=PROJECT_ROOT, stderr=stderr_file, text=True,
        )  # fmt: skip
    publishing = threading.Thread(target=publish_histories, args=(kafka_settings, late))
    try:
        wait_for(lambda: len(read_jsonl(out)) > 0, 120, what="the first events in the file")
        publishing.start()
        # Ctrl-C while the late enterprises' events are arriving.
        wait_for(
            lambda: any(r["key"] in late_keys for r in read_jsonl(out)), 120, what="late events"
        )
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        if publishing.is_alive():
            publishing.join()
    stderr = log.read_text()
    assert proc.returncode == 0, stderr
    assert re.search(r"\d+ events, \d+/s from bank bosc", stderr), stderr
    assert "Traceback" not in stderr

    _delivered(kafka_settings, since, {e.uscc for e in ents}, len(EXPECTED) * len(ents))
    again = run_cli(endpoints, *args, "--idle", "8")
    assert again.returncode == 0, again.stderr
    rows = read_jsonl(out)
    positions = [(r["topic"], r["partition"], r["offset"]) for r in rows]
    assert len(positions) == len(set(positions)), "an event was written twice"
    assert_once_in_order(rows, ents)
    mine = [r for r in rows if r["key"] in {e.uscc for e in ents}]
    assert all(ISO_INSTANT.match(r["changed_at"]) for r in mine if r["kind"] == "change")
    assert all(r["published_at"].endswith("Z") for r in mine)


def test_csv_from_the_beginning_without_commit_reads_the_same_twice(
    endpoints: Endpoints, kafka_settings: KafkaSettings, worker: WorkerProcess, unique: str
) -> None:
    ents = enterprises(unique, 2)
    keys = {e.uscc for e in ents}
    since = end_offsets(kafka_settings, TOPIC)
    publish_histories(kafka_settings, ents)
    _delivered(kafka_settings, since, keys, len(EXPECTED) * len(ents))
    group = f"{BANK}.look-{unique}"
    args = ["consume", "--bank", BANK, "--category", CATEGORY, "--group", group]
    looks = []
    for _ in range(2):
        result = run_cli(endpoints, *args, "--format", "csv", "--no-commit", "--idle", "15")
        assert result.returncode == 0, result.stderr
        looks.append([r for r in csv.DictReader(io.StringIO(result.stdout)) if r["key"] in keys])

    # Partitions interleave as they arrive: compare each partition's rows in its order.
    def by_position(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        return sorted(rows, key=lambda r: (r["topic"], int(r["partition"]), int(r["offset"])))

    assert by_position(looks[0]) == by_position(looks[1]), "--no-commit must leave the group"
    assert len(looks[0]) == len(EXPECTED) * len(ents)
    change = next(r for r in looks[0] if r["kind"] == "change" and r["op"] == "c")
    assert ISO_INSTANT.match(change["changed_at"])
    assert '"judged_on": "20' in change["after"], "dates in ISO 8601 inside the record"
    # Committing now, then reading from the beginning again, gives everything once more.
    run_cli(endpoints, *args, "--idle", "8")
    result = run_cli(endpoints, *args, "--from-beginning", "--idle", "8")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    rows = [r for r in rows if r["key"] in keys]
    assert len(rows) == len(EXPECTED) * len(ents)
