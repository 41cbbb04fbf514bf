"""The secured stack, tried as an attacker and as each party: what each principal may do,
and the one line each refusal shows."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer
from pydantic import SecretStr

from consumers.subscriber import Subscriber
from foundation.kafka_errors import refusal
from foundation.settings import KafkaSettings, get_stack_settings
from governance.topics import Topics
from producers.errors import PublishError
from producers.publisher import Publisher
from schemas import names
from sharebus.access import Access
from sharebus.stack.local import LocalStack
from synthetic.generate import records
from tests.integration.conftest import (
    Endpoints,
    WorkerProcess,
    run_cli,
    spawn_worker,
    stop_worker,
)
from tests.integration.reading import audit_until, end_offsets
from tests.integration.test_end_to_end import CATALOG, micro_enterprise, payment

GOVERNANCE_DIR = Path(__file__).resolve().parents[2] / "examples" / "governance"


@pytest.fixture(scope="session")
def secured(endpoints: Endpoints, sample_governance: int) -> int:
    """Every party's SCRAM user and the derived ACLs on the cluster, as `sharebus` makes
    them; the sample governance's version."""
    if endpoints.security_protocol != "SASL_SSL":
        pytest.fail("the security tests need the secured local stack, not a PLAINTEXT broker")
    for command in ("principals", "acl"):
        done = run_cli(endpoints, command, "apply", "--governance", str(GOVERNANCE_DIR))
        assert done.returncode == 0, done.stderr
    return sample_governance


def as_(settings: KafkaSettings, principal: str) -> KafkaSettings:
    return settings.as_principal(principal)


def one_error_line(done: object) -> str:
    stderr = done.stderr  # type: ignore[attr-defined]
    assert done.returncode == 1, stderr  # type: ignore[attr-defined]
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return str(lines[0])


def read_error(settings: KafkaSettings, topic: str, group: str) -> KafkaError:
    """Subscribe to `topic` and return the first error the consumer reports."""
    conf = {**settings.librdkafka(), "group.id": group, "auto.offset.reset": "earliest"}
    consumer = Consumer(conf)
    try:
        consumer.subscribe([topic])
        for _ in range(120):
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error() is not None:
                return msg.error()  # type: ignore[no-any-return]
            pytest.fail(f"{settings.principal} read a record of {topic}")
        pytest.fail(f"reading {topic} as {settings.principal} gave neither record nor error")
    finally:
        consumer.close()


def write_error(settings: KafkaSettings, topic: str) -> KafkaError | None:
    reports: list[KafkaError | None] = []
    producer = Producer({**settings.librdkafka(), "message.timeout.ms": 20000})
    producer.produce(
        topic, key=b"forged", value=b"forged", on_delivery=lambda e, m: reports.append(e)
    )
    producer.flush(30)
    assert reports, f"no delivery report for {topic}"
    return reports[0]


# ---- who gets in ----------------------------------------------------------------------


def test_an_unauthenticated_client_is_refused(endpoints: Endpoints, secured: int) -> None:
    for protocol in ("PLAINTEXT", "SSL"):
        done = run_cli(endpoints, "topics", "plan", SHAREBUS_SECURITY_PROTOCOL=protocol)
        line = one_error_line(done)
        assert line.startswith(f"error: Kafka unreachable at {endpoints.bootstrap}"), line
        assert "pub." not in done.stdout


def test_a_wrong_password_is_refused_in_one_line(endpoints: Endpoints, secured: int) -> None:
    wrong = {"SHAREBUS_SASL_USERNAME": "bank-ccb", "SHAREBUS_SASL_PASSWORD": "not-its-password"}
    for command in (("consume", "--bank", "ccb", "--idle", "30"), ("topics", "plan")):
        line = one_error_line(run_cli(endpoints, *command, **wrong))
        assert line.startswith("error: Kafka refused to authenticate bank-ccb: "), line
        assert "invalid credentials" in line
        assert "not-its-password" not in line


# ---- banks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "topic",
    ["bank.bocom.tax.payment-record", "pub.tax.payment-record", names.AGREEMENTS, names.AUDIT],
)
def test_a_bank_reads_nothing_but_its_own_topics(
    kafka_settings: KafkaSettings, secured: int, unique: str, topic: str
) -> None:
    ccb = as_(kafka_settings, "bank-ccb")
    err = read_error(ccb, topic, f"ccb.probe-{unique}")
    assert err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, err.str()
    assert refusal(err, ccb.principal, "read", topic) == (
        f"bank-ccb is not allowed to read topic {topic}"
    )


def test_a_bank_cannot_join_another_banks_group(endpoints: Endpoints, secured: int) -> None:
    done = run_cli(endpoints, "consume", "--bank", "bocom", SHAREBUS_SASL_USERNAME="bank-ccb")
    line = one_error_line(done)
    assert line == "error: bank-ccb is not allowed to join consumer group bocom.cli"


# ---- agencies -------------------------------------------------------------------------


def test_an_agency_cannot_publish_as_another(
    kafka_settings: KafkaSettings, secured: int, unique: str
) -> None:
    ent = micro_enterprise(unique)
    with pytest.raises(PublishError) as caught:  # noqa: SIM117
        with Publisher(agency="tax", settings=as_(kafka_settings, "agency-hrss")) as pub:
            pub.publish("tax.payment-record", "c", ent.uscc, after=payment(ent))
    assert str(caught.value) == (
        "1 records not delivered: agency-hrss is not allowed to write to topic "
        "pub.tax.payment-record"
    )


@pytest.mark.parametrize(
    "topic", ["bank.ccb.tax.payment-record", names.AUDIT, names.DLQ, names.ENTRUSTMENTS]
)
def test_an_agency_writes_no_bank_audit_or_governance_topic(
    kafka_settings: KafkaSettings, secured: int, topic: str
) -> None:
    err = write_error(as_(kafka_settings, "agency-tax"), topic)
    assert err is not None and err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


# ---- governance -----------------------------------------------------------------------


@pytest.fixture
def forged(tmp_path: Path) -> Path:
    """The sample governance with bocom's agreement suspended."""
    folder = tmp_path / "governance"
    shutil.copytree(GOVERNANCE_DIR, folder)
    agreement = folder / "agreements" / "bocom-working-capital.yaml"
    text = agreement.read_text()
    assert "status: active" in text
    agreement.write_text(text.replace("status: active", "status: suspended"))
    return folder


@pytest.mark.parametrize(
    "principal", ["agency-tax", "bank-ccb", "sharebus-worker", "sharebus-registry"]
)
def test_nobody_but_the_operator_writes_an_agreement(
    endpoints: Endpoints,
    kafka_settings: KafkaSettings,
    secured: int,
    forged: Path,
    principal: str,
) -> None:
    err = write_error(as_(kafka_settings, principal), names.AGREEMENTS)
    assert err is not None and err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    done = run_cli(endpoints, "governance", "apply", str(forged), SHAREBUS_SASL_USERNAME=principal)
    line = one_error_line(done)
    assert line.startswith("error: ") and f"{principal} is not allowed to" in line, line


def test_the_operator_writes_governance(endpoints: Endpoints, secured: int, forged: Path) -> None:
    operator = {"SHAREBUS_SASL_USERNAME": "sharebus-operator"}
    try:
        done = run_cli(endpoints, "governance", "apply", str(forged), **operator)
        assert done.returncode == 0, done.stderr
        assert "applied" in done.stdout, done.stdout
    finally:
        restored = run_cli(endpoints, "governance", "apply", str(GOVERNANCE_DIR), **operator)
        assert restored.returncode == 0, restored.stderr


# ---- nobody ---------------------------------------------------------------------------


@pytest.fixture
def nobody(kafka_settings: KafkaSettings, secured: int) -> KafkaSettings:
    """A principal that can log in and has no ACL."""
    name = f"nobody-{uuid.uuid4().hex[:8]}"
    password = SecretStr(uuid.uuid4().hex)
    Access(kafka_settings).set_passwords({name: password})
    return kafka_settings.as_principal(name, password)


def test_a_principal_without_acls_can_do_nothing(nobody: KafkaSettings, unique: str) -> None:
    assert Topics(nobody).partitions() == {}, "it must not even see which topics exist"
    assert write_error(nobody, "pub.tax.payment-record") is not None
    err = read_error(nobody, "bank.ccb.tax.payment-record", f"ccb.{unique}")
    assert err.code() in (
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
    )


# ---- every party doing its job ----------------------------------------------------------


@pytest.fixture(scope="module")
def worker_as_workers(
    endpoints: Endpoints, secured: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    app_id = f"sharebus-worker-test-{uuid.uuid4().hex[:8]}"
    folder = tmp_path_factory.mktemp("secured-worker")
    started = spawn_worker(endpoints, folder, app_id, principal="sharebus-worker")
    try:
        started.wait_governance(secured, timeout=180)
        yield started
    finally:
        stop_worker(started)


def test_agencies_workers_and_banks_do_their_jobs_as_themselves(
    kafka_settings: KafkaSettings, worker_as_workers: WorkerProcess, unique: str
) -> None:
    ent = micro_enterprise(unique)
    # The market agency registers the enterprise; the audit is read as the stack's admin
    # (no party may read it) to know its profile is in the worker before its tax record.
    start = end_offsets(kafka_settings, names.AUDIT)
    registration = next(records(CATALOG.get("market.registration"), [ent], 1))
    with Publisher(agency="market", settings=as_(kafka_settings, "agency-market")) as pub:
        registration_id = pub.publish("market.registration", "c", ent.uscc, after=registration)
    assert len(audit_until(kafka_settings, start, {registration_id})) == 4
    with Publisher(agency="tax", settings=as_(kafka_settings, "agency-tax")) as pub:
        event_id = pub.publish("tax.payment-record", "c", ent.uscc, after=payment(ent))
    found = None
    ccb = as_(kafka_settings, "bank-ccb")
    with Subscriber(
        "ccb", group=f"ccb.sec-{unique}", categories=["tax.payment-record"], settings=ccb
    ) as sub:
        for event in sub.events(idle=120):
            if event.event_id == event_id:
                found = event
                break
    assert found is not None, f"never reached the bank:\n{worker_as_workers.output()[-3000:]}"
    assert found.after is not None and found.after["uscc"] == ent.uscc
    assert "voucher_no" not in found.after
    assert worker_as_workers.alive()
    assert "authorization failed" not in worker_as_workers.output().lower()


def test_no_secret_in_any_output_or_log(
    endpoints: Endpoints, worker_as_workers: WorkerProcess, unique: str, tmp_path: Path
) -> None:
    """A flow with known secrets (the stack's generated passwords, the mask keys, and one
    given through settings); none may appear in what the commands print or log."""
    stack = get_stack_settings()
    known = {stack.secrets().get(n).get_secret_value() for n in stack.secrets().names()}  # type: ignore[union-attr]
    given = f"given-{unique}-secret"
    known.add(given)
    from tests.integration.conftest import TEST_MASK_KEYS

    known |= set(TEST_MASK_KEYS.values())
    records = tmp_path / "payments.jsonl"
    outputs = []
    folder = ("--governance", str(GOVERNANCE_DIR))
    try:
        # A password from settings: set, used, and shown nowhere.
        bosc = {"SHAREBUS_PRINCIPAL_PASSWORDS": json.dumps({"bank-bosc": given})}
        outputs.append(run_cli(endpoints, "principals", "apply", *folder, **bosc))
        outputs.append(
            run_cli(
                endpoints,
                "consume",
                "--bank",
                "bosc",
                "--idle",
                "2",
                SHAREBUS_SASL_USERNAME="bank-bosc",
                SHAREBUS_SASL_PASSWORD=given,
            )
        )
        assert outputs[-1].returncode == 0, outputs[-1].stderr
    finally:
        # Back to the stack's own password for bank-bosc, for every later test.
        outputs.append(run_cli(endpoints, "principals", "apply", *folder))
    outputs.append(run_cli(endpoints, "acl", "plan", *folder))
    outputs.append(
        run_cli(endpoints, "generate", "--category", "tax.payment-record", "--out", str(records))
    )
    tax = {"SHAREBUS_SASL_USERNAME": "agency-tax"}
    outputs.append(
        run_cli(
            endpoints,
            "publish",
            "--agency",
            "tax",
            "--category",
            "tax.payment-record",
            str(records),
            **tax,
        )
    )
    # Someone else's password under the wrong name: refused, and not echoed.
    stolen = stack.secrets().get("bank-ccb").get_secret_value()  # type: ignore[union-attr]
    outputs.append(
        run_cli(
            endpoints,
            "topics",
            "plan",
            SHAREBUS_SASL_USERNAME="bank-bocom",
            SHAREBUS_SASL_PASSWORD=stolen,
        )
    )
    assert outputs[-1].returncode == 1
    assert all(o.returncode == 0 for o in outputs[:-1]), [o.stderr for o in outputs]
    texts = [o.stdout + o.stderr for o in outputs]
    texts.append(worker_as_workers.output())
    texts.append(json.dumps(worker_as_workers.status()))
    for log in ("kafka.log", "registry.log"):
        texts.append((stack.dir / "run" / log).read_text(errors="replace"))
    leaked = [s for s in known if any(s in text for text in texts)]
    assert leaked == [], f"{len(leaked)} secrets found in output or logs"


def test_kafkas_own_tools_connect_with_a_rendered_properties_file(
    endpoints: Endpoints, secured: int, tmp_path: Path
) -> None:
    """A bank lists topics with Kafka's own Java tool and sees only its own."""
    props = tmp_path / "ccb.properties"
    done = run_cli(endpoints, "client-config", str(props), SHAREBUS_SASL_USERNAME="bank-ccb")
    assert done.returncode == 0, done.stderr
    assert props.stat().st_mode & 0o777 == 0o600
    classpath = str(LocalStack(get_stack_settings()).kafka_home / "libs" / "*")
    tool = ["org.apache.kafka.tools.TopicCommand", "--bootstrap-server", endpoints.bootstrap]
    tool += ["--command-config", str(props), "--list"]
    listed = subprocess.run(
        [get_stack_settings().java, "-Xmx128m", "-cp", classpath, *tool],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    topics = listed.stdout.split()
    assert "bank.ccb.tax.payment-record" in topics
    assert all(t.startswith("bank.ccb.") for t in topics), topics


def test_a_worker_outside_its_acls_stops_in_one_line(endpoints: Endpoints, secured: int) -> None:
    done = run_cli(
        endpoints,
        "worker",
        SHAREBUS_SASL_USERNAME="sharebus-worker",
        SHAREBUS_WORKER_APP_ID="other-app",
    )
    assert one_error_line(done) == (
        "error: sharebus-worker is not allowed to create topic other-app-__assignor-__leader: "
        "is the app id 'other-app' one its ACLs cover?"
    )
    done = run_cli(endpoints, "worker", SHAREBUS_SASL_USERNAME="bank-ccb")
    assert one_error_line(done).startswith("error: bank-ccb is not allowed to create topic ")


def test_the_controller_listener_lets_no_client_in(endpoints: Endpoints, secured: int) -> None:
    """Only the broker's own certificate opens it: TLS without one, or the admin's SCRAM
    credential, or nothing at all, is refused."""
    stack = get_stack_settings()
    controller = f"127.0.0.1:{stack.controller_port}"
    admin = stack.secrets().get("sharebus-admin")
    assert admin is not None
    attempts = [
        {"SHAREBUS_SECURITY_PROTOCOL": "PLAINTEXT"},
        {"SHAREBUS_SECURITY_PROTOCOL": "SSL", "SHAREBUS_SSL_CA_LOCATION": str(stack.ca_path)},
        {
            "SHAREBUS_SSL_CA_LOCATION": str(stack.ca_path),
            "SHAREBUS_SASL_USERNAME": "sharebus-admin",
            "SHAREBUS_SASL_PASSWORD": admin.get_secret_value(),
        },
    ]
    for attempt in attempts:
        done = run_cli(endpoints, "topics", "plan", SHAREBUS_BOOTSTRAP=controller, **attempt)
        line = one_error_line(done)
        refused = line.startswith(("error: Kafka refused", "error: TLS with Kafka failed"))
        refused = refused and controller in line
        assert refused or line.startswith(f"error: Kafka unreachable at {controller}"), line
        assert admin.get_secret_value() not in done.stdout + done.stderr
