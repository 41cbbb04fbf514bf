"""`sharebus publish` never stops half-way: every bad line of a file is a rejects-file entry
with its line and reason, every good line is delivered exactly once, and an export in
GB18030 reads as what the agency wrote."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from foundation.settings import KafkaSettings
from governance.topics import Topics, source_spec, system_specs
from producers.coerce import to_json
from schemas.catalog import load_catalog
from synthetic.generate import population, records
from tests.integration.conftest import Endpoints, run_cli, start_cli, stuck
from tests.integration.reading import decoded, end_offsets, read_since, read_to_end

CATEGORY = "tax.payment-record"
CAT = load_catalog().get(CATEGORY)


@pytest.fixture(scope="module")
def topics(kafka_settings: KafkaSettings) -> None:
    # The registration topic too: explain reads the enterprise profiles from it.
    specs = [source_spec(CATEGORY), source_spec("market.registration"), *system_specs()]
    Topics(kafka_settings).ensure(specs)


def good_records(n: int, seed: int) -> list[dict[str, Any]]:
    people = population(500, seed=seed)
    return [json.loads(to_json(r)) for r in records(CAT, people, n, seed=seed)]


def line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


def publish(endpoints: Endpoints, path: Path, *extra: str) -> Any:
    return run_cli(
        endpoints, "publish", "--agency", "tax", "--category", CATEGORY, *extra, str(path)
    )


def test_every_kind_of_bad_line_is_rejected_and_every_good_line_delivered_once(
    endpoints: Endpoints, kafka_settings: KafkaSettings, topics: None, tmp_path: Path
) -> None:
    good = good_records(8, seed=41)
    base = good_records(1, seed=42)[0]
    huge = "长" * 600_000  # 1.8 MB in UTF-8: over the topic's 1 MB max.message.bytes
    bad: dict[str, bytes] = {
        "wrong type": line({**base, "amount_paid": ["1.00"]}),
        "scale": line({**base, "amount_paid": "10.005"}),
        "precision": line({**base, "amount_paid": "12345678901234567.00"}),
        "1e400 as text": line({**base, "amount_paid": "1e400"}),
        "1e400 as a number": line(base).replace(
            f'"amount_paid": "{base["amount_paid"]}"'.encode(), b'"amount_paid": 1e400'
        ),
        "NaN": line(base).replace(
            f'"amount_paid": "{base["amount_paid"]}"'.encode(), b'"amount_paid": NaN'
        ),
        "Infinity as text": line({**base, "amount_paid": "Infinity"}),
        "too large": line({**base, "enterprise_name": huge}),
        "undecodable": line(base).replace(b'"uscc"', b'"uscc\xff\xfe"'),
    }
    assert all(b"amount_paid" in v for v in bad.values())
    lines = [line(good[0]), line(good[1])]
    expected_reason: dict[int, str] = {}
    for i, (kind, raw) in enumerate(bad.items()):
        lines.append(raw)
        expected_reason[len(lines)] = kind
        lines.append(line(good[2 + i % 6]) if i < 6 else b"")
    good_lines = [ln for ln in lines if ln and ln not in bad.values()]
    assert len(good_lines) == 8
    data = tmp_path / "mixed.jsonl"
    data.write_bytes(b"\n".join(lines) + b"\n")
    start = end_offsets(kafka_settings, CAT.topic)

    result = publish(endpoints, data)

    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "published 8 records" in result.stderr and "rejected 9" in result.stderr
    rejects = [
        json.loads(r) for r in (tmp_path / "mixed.jsonl.rejects.jsonl").read_text().splitlines()
    ]
    reasons = {r["line"]: r["reason"] for r in rejects}
    assert sorted(reasons) == sorted(expected_reason)
    by_kind = {kind: reasons[n] for n, kind in expected_reason.items()}
    assert (
        by_kind["wrong type"] == "after.amount_paid: expected a decimal(18,2) amount, got ['1.00']"
    )
    assert "more than 2 decimal places" in by_kind["scale"]
    assert "at most 16 digits before the point" in by_kind["precision"]
    assert "at most 16 digits before the point" in by_kind["1e400 as text"]
    assert "at most 16 digits before the point" in by_kind["1e400 as a number"]
    assert "NaN is not a number" in by_kind["NaN"]
    assert "finite" in by_kind["Infinity as text"]
    assert "over the 1,000,000-byte limit" in by_kind["too large"]
    assert by_kind["undecodable"] == "not valid utf-8: bytes ff at byte 7"
    # A rejects file never echoes megabytes: the huge line is cut.
    assert all(len(r["text"]) < 3000 for r in rejects)

    messages = read_to_end(kafka_settings, start)
    values = decoded(kafka_settings, messages)
    sent = sorted(json.dumps(json.loads(g), sort_keys=True) for g in good_lines)
    got = sorted(json.dumps(json.loads(to_json(v["after"])), sort_keys=True) for v in values)
    assert got == sent  # each good line exactly once, nothing of a bad one


def test_a_gb18030_export_reads_as_written(
    endpoints: Endpoints, kafka_settings: KafkaSettings, topics: None, tmp_path: Path
) -> None:
    good = good_records(3, seed=43)
    data = tmp_path / "export.jsonl"
    data.write_bytes(
        b"\n".join(json.dumps(g, ensure_ascii=False).encode("gb18030") for g in good) + b"\n"
    )
    as_utf8 = publish(endpoints, data, "--json")
    assert as_utf8.returncode == 1
    summary = json.loads(as_utf8.stdout)
    assert summary["delivered"] == 0 and summary["rejected"] == 3
    assert summary["stopped"] is None

    start = end_offsets(kafka_settings, CAT.topic)
    result = publish(endpoints, data, "--encoding", "gb18030", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["delivered"] == 3
    assert not (tmp_path / "export.jsonl.rejects.jsonl").exists()
    names = sorted(
        v["after"]["enterprise_name"]
        for v in decoded(kafka_settings, read_to_end(kafka_settings, start))
    )
    assert names == sorted(g["enterprise_name"] for g in good)


def test_an_unknown_encoding_is_a_usage_error(endpoints: Endpoints, tmp_path: Path) -> None:
    data = tmp_path / "x.jsonl"
    data.write_text("{}\n")
    result = publish(endpoints, data, "--encoding", "klingon")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: unknown encoding 'klingon': use utf-8, gb18030 or gbk"


@pytest.mark.usefixtures("sample_governance")  # explain judges for a bank in force
def test_explain_rejects_what_publish_rejects_with_the_same_reasons(
    endpoints: Endpoints, topics: None, tmp_path: Path
) -> None:
    good = good_records(2, seed=44)
    wrong_check = {
        **good[0],
        "uscc": good[0]["uscc"][:17] + ("0" if good[0]["uscc"][17] != "0" else "1"),
    }
    wrong_type = {**good[1], "amount_paid": "12.345"}
    data = tmp_path / "explain.jsonl"
    data.write_bytes(b"\n".join(line(r) for r in (good[0], wrong_check, wrong_type)) + b"\n")

    explained = run_cli(
        endpoints,
        "explain",
        "--bank",
        "ccb",
        "--category",
        CATEGORY,
        "--governance",
        "examples/governance",
        "--json",
        str(data),
    )
    assert explained.returncode == 0, explained.stderr
    verdicts = {v["line"]: v for v in map(json.loads, explained.stdout.splitlines())}
    assert verdicts[1]["verdict"] in ("delivered", "denied")
    assert verdicts[2]["verdict"] == verdicts[3]["verdict"] == "rejected"
    assert "check character" in verdicts[2]["reason"]

    published = publish(endpoints, data)
    assert published.returncode == 1
    rejects = (tmp_path / "explain.jsonl.rejects.jsonl").read_text().splitlines()
    by_line = {r["line"]: r["reason"] for r in map(json.loads, rejects)}
    assert by_line == {2: verdicts[2]["reason"], 3: verdicts[3]["reason"]}


def test_a_stop_says_how_many_lines_were_delivered_and_where_to_resume(
    endpoints: Endpoints, kafka_settings: KafkaSettings, topics: None
) -> None:
    """Publishing from a pipe, stopped (Ctrl-C) after five lines: the summary names the
    lines confirmed, the last of them, and the line after which a rerun may resume. Started
    with SIGINT ignored, as a script's background job or a CI runner starts it: a Ctrl-C
    (`kill -INT`) still stops it."""
    good = good_records(5, seed=45)
    start = end_offsets(kafka_settings, CAT.topic)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # inherited by the command
    try:
        proc = start_cli(endpoints, "publish", "--agency=tax", f"--category={CATEGORY}", "-")
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        assert proc.stdin is not None
        proc.stdin.write("\n".join(json.dumps(g, ensure_ascii=False) for g in good) + "\n")
        proc.stdin.flush()
        delivered = read_since(kafka_settings, start, lambda m: len(m) >= 5, timeout=60)
        assert len(delivered) == 5
        time.sleep(1)  # it has nothing more to read: it waits on the pipe
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)  # the pipe stays open: the stop is the Ctrl-C, not an EOF
        except subprocess.TimeoutExpired:
            pytest.fail(stuck(proc))
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, stderr
    assert "Traceback" not in stderr
    said = stderr.strip().splitlines()
    assert said[:2] == [
        "error: publishing stopped: interrupted",
        "confirmed 5 lines, the last of them line 5; unknown 0 (sent, not confirmed: they "
        "may have arrived); every line up to 5 was delivered or rejected: resume after line 5",
    ]
    assert said[2].startswith("re-running the whole file is safe") and len(said) == 3
