"""The operator's view of a run with known content: `status --json` (health, governance
in force, dead letters, the workers' and a bank group's lag), `audit query` (who received
what about an enterprise, what was withheld and why), and Kafka's own tools."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from foundation.settings import PROJECT_ROOT, KafkaSettings
from producers.publisher import Publisher
from schemas import names
from schemas.catalog import load_catalog
from sharebus.governance_log import read_current
from synthetic.generate import Enterprise, population, records
from tests.integration.conftest import Endpoints, WorkerProcess, run_cli, wait_for
from tests.integration.reading import audit_until, end_offsets

CATALOG = load_catalog()
PAYMENT = CATALOG.get("tax.payment-record")
BANK_TOPIC = names.bank_topic("ccb", PAYMENT.id)


@dataclass(frozen=True)
class Run:
    micro: Enterprise
    large: Enterprise
    micro_event: str
    large_event: str


def enterprise(scale: str) -> Enterprise:
    return next(e for e in population(400, seed=71) if e.scale == scale)


@pytest.fixture(scope="module")
def run(kafka_settings: KafkaSettings, worker: WorkerProcess) -> Run:
    """One payment of a micro enterprise (ccb receives it) and one of a large enterprise
    (ccb's inclusive-lending filter withholds it), decided by the session's worker."""
    micro, large = enterprise("MICRO"), enterprise("LARGE")
    audit_start = end_offsets(kafka_settings, names.AUDIT)
    with Publisher(agency="market", settings=kafka_settings) as pub:
        for ent in (micro, large):
            reg = next(records(CATALOG.get("market.registration"), [ent], 1))
            pub.publish("market.registration", "c", ent.uscc, after=reg)
    with Publisher(agency="tax", settings=kafka_settings) as pub:
        micro_event = pub.publish(
            PAYMENT.id, "c", micro.uscc, after=next(records(PAYMENT, [micro], 1))
        )
        large_event = pub.publish(
            PAYMENT.id, "c", large.uscc, after=next(records(PAYMENT, [large], 1))
        )
    decided = audit_until(kafka_settings, audit_start, {micro_event, large_event})
    assert len(decided) == 8
    return Run(micro, large, micro_event, large_event)


def audit(endpoints: Endpoints, *args: str) -> list[dict[str, Any]]:
    result = run_cli(endpoints, "audit", "query", *args, "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_audit_query_says_who_received_what_and_what_was_withheld(
    endpoints: Endpoints, run: Run
) -> None:
    about_micro = audit(endpoints, "--uscc", run.micro.uscc)
    payment = {r["bank"]: r for r in about_micro if r["event_id"] == run.micro_event}
    assert sorted(payment) == ["bocom", "bosc", "ccb", "spdb"]
    ccb = payment["ccb"]
    assert ccb["decision"] == "delivered" and ccb["agreement_id"] == "ccb-inclusive-2026"
    assert ccb["purpose"] and "voucher_no" not in ccb["fields_delivered"]
    assert "voucher_no" in ccb["fields_dropped"]
    assert all(r["uscc"] == run.micro.uscc for r in about_micro)

    ccb_only = audit(endpoints, "--uscc", run.large.uscc, "--bank", "ccb")
    assert {r["bank"] for r in ccb_only} == {"ccb"}
    withheld = next(r for r in ccb_only if r["event_id"] == run.large_event)
    assert withheld["decision"] == "denied" and withheld["reason"] == "filtered"
    assert withheld["agreement_id"] == "ccb-inclusive-2026"

    assert audit(endpoints, "--uscc", run.micro.uscc, "--since", "2999-01-01") == []
    text = run_cli(endpoints, "audit", "query", "--uscc", run.large.uscc, "--bank", "ccb")
    assert text.returncode == 0, text.stderr
    assert f"WITHHELD {PAYMENT.id} (c, event {run.large_event}) under ccb-inclusive-2026" in (
        text.stdout
    )


def test_status_reports_health_governance_dead_letters_and_lag(
    endpoints: Endpoints,
    kafka_settings: KafkaSettings,
    worker: WorkerProcess,
    sample_governance: int,
    run: Run,
    unique: str,
) -> None:
    app_id = (worker.status() or {})["app_id"]

    def status() -> dict[str, Any]:
        result = run_cli(endpoints, "status", "--json", "--worker-group", app_id)
        assert result.returncode == 0, result.stderr
        report: dict[str, Any] = json.loads(result.stdout)
        return report

    before = status()
    assert before["kafka"]["ok"] and before["registry"]["ok"]
    assert before["governance"]["version"] >= sample_governance
    assert before["topics"]["source"] >= len(CATALOG)
    assert before["workers"]["members"] >= 1

    # Two dead letters, and a bank group that committed offset 0 on every partition of
    # its bank topic: its lag is the topic's end offsets, which the run made non-zero.
    producer = Producer(kafka_settings.librdkafka())
    for n in range(2):
        producer.produce(names.DLQ, key=f"status-{unique}-{n}".encode(), value=b"x")
    assert producer.flush(10) == 0
    ends = {tp.partition: tp.offset for tp in end_offsets(kafka_settings, BANK_TOPIC)}
    assert sum(ends.values()) > 0
    group = f"ccb.status-{unique}"
    admin = AdminClient(kafka_settings.librdkafka())
    committed = [TopicPartition(BANK_TOPIC, p, 0) for p in ends]
    admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, committed)])[
        group
    ].result(timeout=10)

    def caught_up() -> dict[str, Any] | None:
        report = status()
        payments = [p for p in report["workers"]["partitions"] if p["topic"] == PAYMENT.topic]
        return report if payments and all(p["lag"] == 0 for p in payments) else None

    after = wait_for(caught_up, timeout=60, what="the worker's lag on the payments to be 0")
    assert after["dlq"]["records"] == before["dlq"]["records"] + 2
    bank = next(g for g in after["banks"] if g["group"] == group)
    assert bank["bank"] == "ccb" and bank["lag"] == sum(ends.values())
    assert {(p["partition"], p["lag"]) for p in bank["partitions"]} == set(ends.items())

    text = run_cli(endpoints, "status", "--worker-group", app_id)
    assert text.returncode == 0, text.stderr
    assert f"bank group       {group}: " in text.stdout
    assert f"lag {sum(ends.values())}" in text.stdout

    tool = run_cli(endpoints, "kafka", "kafka-consumer-groups", "--describe", "--group", group)
    assert tool.returncode == 0, tool.stderr
    rows = [ln.split() for ln in tool.stdout.splitlines() if BANK_TOPIC in ln]
    assert {int(r[2]): int(r[5]) for r in rows} == ends  # PARTITION -> LAG


def test_kafka_console_consumer_reads_a_bank_topic_as_documented(
    endpoints: Endpoints, run: Run
) -> None:
    result = run_cli(
        endpoints,
        "kafka",
        "kafka-console-consumer",
        "--topic",
        BANK_TOPIC,
        "--from-beginning",
        "--max-messages",
        "1",
        "--timeout-ms",
        "30000",
        "--property",
        "print.key=true",
        "--property",
        "print.headers=true",
        "--property",
        "print.value=false",
    )
    assert result.returncode == 0, result.stderr
    assert "ce_agreementid:ccb-inclusive-2026" in result.stdout


def readme_kcat() -> dict[str, str]:
    """The README's kcat lines: the bank's properties file, kcat as packaged, and kcat on
    the librdkafka of `.venv` (for a packaged one too old to log in to Kafka 4)."""
    lines = (PROJECT_ROOT / "README.md").read_text().splitlines()

    def first(prefix: str) -> str:
        return next(line for line in lines if line.startswith(prefix))

    return {
        "config": first("SHAREBUS_SASL_USERNAME=bank-ccb .venv/bin/sharebus client-config"),
        "kcat": first("kcat -F ccb.properties -C "),
        "link": first("ln -sf "),
        "linked": first("LD_LIBRARY_PATH=.venv/lib kcat "),
    }


def test_kcat_reads_a_bank_topic_as_documented(endpoints: Endpoints, run: Run) -> None:
    """The README's kcat lines where kcat is installed; where it is not, the properties
    file they rest on, read by librdkafka (kcat's client) as `-F` reads it."""
    readme = readme_kcat()

    def shell(line: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", line],
            cwd=PROJECT_ROOT,
            env=endpoints.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    # The bank's user and its ACLs, as `make up` makes them before the README is pasted.
    for what in ("principals", "acl"):
        made = run_cli(endpoints, what, "apply", "--governance", "examples/governance")
        assert made.returncode == 0, made.stderr
    properties = PROJECT_ROOT / "ccb.properties"
    try:
        made = shell(readme["config"])
        assert made.returncode == 0, made.stderr
        if shutil.which("kcat") is None:
            rows = _read_with_properties(properties, BANK_TOPIC)
        else:
            rows = _read_with_kcat(readme, shell)
        ours = [r for r in rows if r[2] == run.micro.uscc]
        assert ours, rows[-20:]
        assert all("ce_agreementid=ccb-inclusive-2026" in r[3] for r in ours)
    finally:
        properties.unlink(missing_ok=True)


def _read_with_kcat(
    readme: dict[str, str], shell: Callable[[str], subprocess.CompletedProcess[str]]
) -> list[list[str]]:
    version = subprocess.run(["kcat", "-V"], capture_output=True, text=True, check=False)
    found = re.search(r"librdkafka (\d+)\.(\d+)\.(\d+)", version.stdout + version.stderr)
    assert found, version.stdout
    result = shell(readme["kcat"])
    if tuple(int(n) for n in found.groups()) < (2, 6, 1):
        # What the README says of an older librdkafka, and its way round that.
        assert result.returncode != 0 and "invalid credentials" in result.stderr, result.stderr
        linked = shell(readme["link"])
        assert linked.returncode == 0, linked.stderr
        result = shell(readme["linked"])
    assert result.returncode == 0, result.stderr
    return [line.split(" ", 3) for line in result.stdout.splitlines()]


def _read_with_properties(path: Path, topic: str) -> list[list[str]]:
    """kcat's `%p %o %k %h` rows, read by librdkafka configured from the file alone."""
    conf = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            conf[name.strip()] = value.strip()
    conf |= {"group.id": "ccb.kcat-check", "enable.auto.commit": False}
    consumer = Consumer(conf)
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        assert meta.error is None, meta.error
        low_high = [
            (p, consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10))
            for p in meta.partitions
        ]
        consumer.assign([TopicPartition(topic, p, low) for p, (low, _) in low_high])
        ends = {p: high for p, (low, high) in low_high if high > low}
        rows = []
        deadline = time.monotonic() + 60
        while ends and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            reached = consumer.position([TopicPartition(topic, p) for p in ends])
            for tp in reached:
                if tp.offset >= ends[tp.partition]:
                    del ends[tp.partition]
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            headers = ",".join(f"{k}={(v or b'').decode()}" for k, v in msg.headers() or [])
            key = (msg.key() or b"").decode()
            rows.append([str(msg.partition()), str(msg.offset()), key, headers])
        return rows
    finally:
        consumer.close()


def test_consume_prints_the_bank_records_as_documented(
    endpoints: Endpoints, run: Run, unique: str
) -> None:
    # A group of its own: the README's `consume` (group ccb.default) must still find the
    # run's record unread.
    result = run_cli(
        endpoints,
        "consume",
        "--bank",
        "ccb",
        "--category",
        PAYMENT.id,
        "--group",
        f"ccb.doc-{unique}",
        "--max",
        "5",
        "--idle",
        "5",
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines and all(line["topic"] == BANK_TOPIC for line in lines)
    assert all("voucher_no" not in (line["after"] or {}) for line in lines)


# Run here as written, in the README's order: what leaves the shared stack as it was (or
# only adds events of its own).
RUN_HERE = {
    ("catalog",), ("generate",), ("publish",), ("grants",), ("docs", "asyncapi"),
    ("docs", "catalog"), ("consume",), ("kafka",), ("topics", "plan"), ("schemas", "check"),
    ("governance", "validate"), ("governance", "plan"), ("consent", "list"), ("explain",),
    ("dlq", "list"), ("acl", "plan"), ("acl", "list"), ("status",), ("parties",),
    ("--version",), ("audit", "query"),
}  # fmt: skip
# Run by the tests that own what they change, in the README's words or their own.
RUN_ELSEWHERE = {
    ("topics", "apply"): "test_topics, test_stack",
    ("schemas", "register"): "test_schemas",
    ("governance", "apply"): "test_governance_lifecycle, test_stack",
    ("consent", "revoke"): "test_governance_live, test_subscriber_retraction",
    ("consent", "grant"): "test_governance_live, test_subscriber_retraction",
    ("backfill",): "test_backfill",
    ("worker",): "the worker of every integration test",
    ("dlq", "replay"): "test_dead_letters (a --dry-run runs here)",
    ("principals", "apply"): "the kcat test above, test_security",
    ("acl", "apply"): "the kcat test above, test_security",
    ("audit", "verify"): "test_audit_chain",
}
WRITTEN = ("payments.jsonl", "records.jsonl", "ccb-asyncapi.json", "ccb.csv", "catalog-site")


def _kind(args: list[str]) -> tuple[str, ...]:
    for kind in (tuple(args[:2]), tuple(args[:1])):
        if kind in RUN_HERE or kind in RUN_ELSEWHERE:
            return kind
    return tuple(args[:2])


def readme_commands() -> list[list[str]]:
    """Every `.venv/bin/sharebus` line of the README, in order, as arguments."""
    found = []
    for line in (PROJECT_ROOT / "README.md").read_text().splitlines():
        if line.startswith(".venv/bin/sharebus "):
            found.append(shlex.split(line.split("#", 1)[0])[1:])
    return found


def test_every_readme_command_is_run_by_a_test() -> None:
    kinds = {_kind(args) for args in readme_commands()}
    unknown = kinds - RUN_HERE - set(RUN_ELSEWHERE)
    assert unknown == set(), "README commands no test runs"


def test_the_readme_commands_work_as_written(endpoints: Endpoints, run: Run) -> None:
    commands = [a for a in readme_commands() if _kind(a) in RUN_HERE]
    replays = [a for a in readme_commands() if _kind(a) == ("dlq", "replay")]
    commands += [a for a in replays if "--dry-run" in a]
    assert {_kind(c) for c in commands} - {("dlq", "replay")} == RUN_HERE
    try:
        for args in commands:
            result = run_cli(endpoints, *args)
            assert result.returncode == 0, f"{' '.join(args)}: {result.stderr}"
            assert "Traceback" not in result.stderr
            # The README's enterprise may have no decisions or dead letters yet; --out
            # writes to a file, and a consume after another of the same group has nothing.
            if args[0] not in ("audit", "consume", "dlq", "generate", "docs"):
                assert (result.stdout + result.stderr).strip(), " ".join(args)
        for name in WRITTEN:
            assert (PROJECT_ROOT / name).exists(), name
    finally:
        for name in WRITTEN:
            written = PROJECT_ROOT / name
            if written.is_dir():
                shutil.rmtree(written)
            written.unlink(missing_ok=True)


def test_parties_are_the_governance_in_force(
    endpoints: Endpoints, kafka_settings: KafkaSettings, sample_governance: int
) -> None:
    gov = read_current(kafka_settings)
    result = run_cli(endpoints, "parties", "--json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert [p["id"] for p in listed if p["kind"] == "agency"] == list(gov.agencies)
    assert [p["id"] for p in listed if p["kind"] == "bank"] == list(gov.banks)
    ccb = next(p for p in listed if p["id"] == "ccb")
    assert ccb["name"] == f"{gov.banks['ccb'].name_en} {gov.banks['ccb'].name_zh}"


@pytest.mark.parametrize(
    "args",
    [
        ("consume", "--bank", "nobank"),
        ("explain", "--bank", "nobank", "--category", "tax.payment-record", "README.md"),
        ("audit", "query", "--uscc", "91310117MAFKNQGQ3B", "--bank", "nobank"),
    ],
    ids=" ".join,
)
def test_a_bank_the_governance_in_force_lacks_is_a_usage_error(
    endpoints: Endpoints, sample_governance: int, args: tuple[str, ...]
) -> None:
    result = run_cli(endpoints, *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unknown bank 'nobank': one of ")
    assert "ccb" in lines[0]
