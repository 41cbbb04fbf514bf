"""No broker needed: every command that needs the broker or the registry, run with both
unreachable (closed ports), says in one line which one and where, exits non-zero, prints
no traceback and no client log lines. Every bad argument is one line too, exit code 2."""

from __future__ import annotations

import json
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from foundation.settings import KafkaSettings
from producers.publisher import Publisher
from schemas.errors import RegistryError
from tests.integration.conftest import Endpoints, run_cli


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


KAFKA = f"127.0.0.1:{closed_port()}"
REGISTRY = f"http://127.0.0.1:{closed_port()}/apis/ccompat/v7"
RECORD = (
    '{"uscc": "91310117MAFKNQGQ3B", "enterprise_name": "x", "period": "2024-07", '
    '"tax_type": "VAT", "amount_paid": "1.00", "paid_at": "2024-08-04T08:44:56.393Z", '
    '"voucher_no": "1", "tax_office": "x", "late_fee": null}'
)


def sharebus(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, pointed at ports nobody listens on."""
    return run_cli(Endpoints(KAFKA, REGISTRY), *args)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.fixture(scope="module")
def record_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("down") / "payments.jsonl"
    path.write_text(RECORD + "\n")
    return path


NEEDS_KAFKA = [
    ("topics", "plan"),
    ("topics", "apply"),
    ("governance", "apply", "examples/governance"),
    ("governance", "plan", "examples/governance"),
    ("consent", "grant", "--bank", "ccb", "--uscc", "91310117MAFKNQGQ3B"),
    ("consent", "list"),
    ("audit", "query", "--uscc", "91310117MAFKNQGQ3B"),
    ("kafka", "kafka-topics", "--list"),
    ("parties",),
    ("consent", "revoke", "--bank", "ccb", "--uscc", "91310117MAFKNQGQ3B"),
    ("consume", "--bank", "ccb"),
    ("demo", "--seconds", "5"),
    ("dlq", "list"),
    ("dlq", "replay", "--dry-run"),
    ("audit", "verify"),
    ("topics", "apply", "--prune"),
    ("grants", "--bank", "ccb"),
    ("docs", "asyncapi", "--bank", "ccb"),
    ("docs", "catalog", "--out", str(Path(tempfile.gettempdir()) / "sharebus-catalog-down")),
    ("backfill", "--agreement", "ccb-inclusive-2026"),
]


@pytest.mark.parametrize("args", NEEDS_KAFKA, ids=" ".join)
def test_a_command_needing_kafka_names_it_and_its_address(args: tuple[str, ...]) -> None:
    result = sharebus(*args)
    assert result.returncode == 1
    assert one_line_error(result) == f"error: Kafka unreachable at {KAFKA}: Connection refused"


def test_publish_and_explain_name_kafka(record_file: Path) -> None:
    publish = sharebus(
        "publish", "--agency", "tax", "--category", "tax.payment-record", str(record_file)
    )
    explain = sharebus(
        "explain", "--bank", "ccb", "--category", "tax.payment-record", str(record_file)
    )
    for result in (publish, explain):
        assert result.returncode == 1
        assert one_line_error(result) == f"error: Kafka unreachable at {KAFKA}: Connection refused"


@pytest.mark.parametrize("args", [("schemas", "register"), ("schemas", "check")], ids=" ".join)
def test_a_command_needing_the_registry_names_it_and_its_address(args: tuple[str, ...]) -> None:
    result = sharebus(*args)
    assert result.returncode == 1
    line = one_line_error(result)
    assert line.startswith(f"error: schema registry unreachable at {REGISTRY}: ")


BAD_ARGUMENTS = [
    (("generate", "--category", "tax.payment-record", "--count", "-5"), "--count"),
    (("generate", "--category", "tax.payment-record", "--enterprises", "0"), "--enterprises"),
    (("generate", "--category", "tax.nope"), "unknown category 'tax.nope'"),
    (("consume", "--bank", "ccb", "--max", "0"), "--max"),
    (("consume", "--bank", "ccb", "--group", "bocom.x"), "starts with 'ccb.'"),
    (("consume", "--bank", "ccb", "--category", "tax.nope"), "unknown category 'tax.nope'"),
    (
        ("publish", "--agency", "tax", "--category", "tax.payment-record", "--encoding", "x", "-"),
        "unknown encoding 'x'",
    ),
    (
        ("publish", "--agency", "tax", "--category", "tax.payment-record", "--format", "xml", "-"),
        "unknown input format 'xml'",
    ),
    (("nosuchcommand",), "No such command"),
    (("catalog", "list", "--agency", "nope"), "no category of agency 'nope'"),
    (("parties", "--kind", "regulator"), "--kind is agency or bank"),
    (("topics", "plan", "--partitions", "0"), "--partitions"),
]


@pytest.mark.parametrize(
    ("args", "says"), BAD_ARGUMENTS, ids=lambda a: " ".join(a) if isinstance(a, tuple) else ""
)
def test_a_bad_argument_is_one_line_and_exit_code_2(args: tuple[str, ...], says: str) -> None:
    result = sharebus(*args)
    assert result.returncode == 2, result.stderr
    assert says in one_line_error(result)


def test_an_unwritable_out_is_one_line_and_exit_code_1(tmp_path: Path) -> None:
    target = tmp_path / "missing-folder" / "out.jsonl"
    result = sharebus("generate", "--category", "tax.payment-record", "--out", str(target))
    assert result.returncode == 1
    assert one_line_error(result) == f"error: cannot write {target}: No such file or directory"


def test_version() -> None:
    result = sharebus("--version")
    assert result.returncode == 0 and result.stdout.startswith("sharebus 0.")


def test_status_reports_both_unreachable_and_exits_1() -> None:
    result = sharebus("status", "--json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    report = json.loads(result.stdout)
    assert report["kafka"] == {
        "address": KAFKA,
        "ok": False,
        "problem": f"Kafka unreachable at {KAFKA}: Connection refused",
    }
    assert report["registry"]["ok"] is False
    assert report["registry"]["problem"].startswith(f"schema registry unreachable at {REGISTRY}")
    assert "topics" not in report  # nothing is guessed about a cluster that did not answer


def test_the_sdk_says_what_is_unreachable_in_one_error() -> None:
    """`Publisher.prepare()` with both down: the registry's error, not a timeout of the size
    limits' request (a limit that cannot be read is the client's own cap)."""
    settings = KafkaSettings(bootstrap=KAFKA, registry_url=REGISTRY, security_protocol="PLAINTEXT")
    pub = Publisher(agency="tax", settings=settings)
    with pytest.raises(RegistryError, match="schema registry unreachable"):
        pub.prepare()
