"""Fixtures of the integration tier: one real broker and registry per session.

Found in this order: `SHAREBUS_BOOTSTRAP` / `SHAREBUS_REGISTRY_URL` when set; else the
local stack from jars (started if it is not running); else testcontainers, where a
Docker engine answers. Topic-level isolation comes from unique keys, event ids, group
ids and worker app ids per test.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from foundation.settings import PROJECT_ROOT, KafkaSettings, get_kafka_settings, get_stack_settings
from schemas.catalog import load_catalog
from sharebus.stack.local import LocalStack

pytestmark = pytest.mark.integration

GOVERNANCE = PROJECT_ROOT / "examples" / "governance"
# Test-only HMAC keys (not secrets of anything): hashes must differ between banks.
TEST_MASK_KEYS = {bank: f"test-key-of-{bank}" for bank in ("ccb", "bocom", "spdb", "bosc")}


@dataclass(frozen=True)
class Endpoints:
    bootstrap: str
    registry_url: str
    # The local stack is secured; a broker from testcontainers has no security at all.
    security_protocol: str = "SASL_SSL"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SHAREBUS_BOOTSTRAP": self.bootstrap,
            "SHAREBUS_REGISTRY_URL": self.registry_url,
            "SHAREBUS_SECURITY_PROTOCOL": self.security_protocol,
        }


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def endpoints() -> Iterator[Endpoints]:
    bootstrap = os.environ.get("SHAREBUS_BOOTSTRAP")
    registry = os.environ.get("SHAREBUS_REGISTRY_URL")
    if bootstrap and registry:
        yield Endpoints(bootstrap, registry)
        return
    settings = get_stack_settings()
    if shutil.which(settings.java) and shutil.which(settings.mvn):
        stack = LocalStack(settings, report=lambda line: print(line, file=sys.stderr))
        stack.up()
        yield Endpoints(stack.bootstrap, stack.registry_url)
        return
    if _docker_answers():
        yield from _containers()
        return
    pytest.fail("no broker: set SHAREBUS_BOOTSTRAP, install Java and Maven, or run Docker")


def _containers() -> Iterator[Endpoints]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs
    from testcontainers.kafka import KafkaContainer

    with KafkaContainer("apache/kafka:4.1.1").with_kraft() as kafka:
        registry = (
            DockerContainer("quay.io/apicurio/apicurio-registry:3.0.9")
            .with_exposed_ports(8080)
            .with_env("APICURIO_STORAGE_KIND", "sql")
        )
        with registry:
            wait_for_logs(registry, "started in", timeout=120)
            port = registry.get_exposed_port(8080)
            host = registry.get_container_host_ip()
            registry_url = f"http://{host}:{port}/apis/ccompat/v7"
            yield Endpoints(kafka.get_bootstrap_server(), registry_url, "PLAINTEXT")


@pytest.fixture(scope="session")
def kafka_settings(endpoints: Endpoints) -> KafkaSettings:
    return KafkaSettings(
        bootstrap=endpoints.bootstrap,
        registry_url=endpoints.registry_url,
        security_protocol=endpoints.security_protocol,  # type: ignore[arg-type]
    )


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, endpoints: Endpoints) -> Iterator[None]:
    """In-process CLI runs (CliRunner) read settings from the environment, cached once per
    process: point them at the test broker and start afresh."""
    monkeypatch.setenv("SHAREBUS_BOOTSTRAP", endpoints.bootstrap)
    monkeypatch.setenv("SHAREBUS_REGISTRY_URL", endpoints.registry_url)
    monkeypatch.setenv("SHAREBUS_SECURITY_PROTOCOL", endpoints.security_protocol)
    get_kafka_settings.cache_clear()
    yield
    get_kafka_settings.cache_clear()


@pytest.fixture
def unique() -> str:
    """A short unique suffix for group ids, app ids and keys of one test."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def sample_governance(kafka_settings: KafkaSettings) -> int:
    """The sample governance of examples/governance, applied (reconciled); its version."""
    return apply_sample(kafka_settings)


def apply_sample(kafka_settings: KafkaSettings) -> int:
    """Reconcile the cluster to the sample folder; the version then in force."""
    from governance.loader import governance_from_dir
    from governance.topics import Topics, desired_topics
    from sharebus.governance_log import apply_folder, read_current

    gov = governance_from_dir(GOVERNANCE)
    Topics(kafka_settings).ensure(desired_topics(load_catalog(), list(gov.agreements.values())))
    _, version = apply_folder(GOVERNANCE, kafka_settings)
    return version or read_current(kafka_settings).version


@dataclass
class WorkerProcess:
    proc: subprocess.Popen[bytes]
    log: Path
    port: int

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def status(self) -> dict[str, Any] | None:
        try:
            url = f"http://127.0.0.1:{self.port}/status"
            with urllib.request.urlopen(url, timeout=2) as resp:
                body: dict[str, Any] = json.loads(resp.read())
                return body
        except (OSError, ValueError):
            return None

    def wait_governance(self, version: int, timeout: float = 90.0) -> dict[str, Any]:
        """Until the worker reports it has applied governance `version` (or a later one)."""

        def applied() -> dict[str, Any] | None:
            if not self.alive():
                pytest.fail(f"worker exited; log:\n{self.output()[-3000:]}")
            status = self.status()
            ready = (
                status and status["governance_ready"] and status["governance_version"] >= version
            )
            return status if ready else None

        return wait_for(applied, timeout, what=f"governance version {version} in the worker")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn_worker(
    endpoints: Endpoints,
    folder: Path,
    app_id: str,
    principal: str | None = None,
    port: int | None = None,
    **settings: str,
) -> WorkerProcess:
    """Start a real `sharebus worker` process, logging into `folder`, as `principal` (the
    stack's admin when None); `settings` are SHAREBUS_WORKER_* values (source_pattern=...).
    With `port=0` no port is set: the worker chooses, as it does for an operator (the
    caller reads it from the log)."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "worker.log"
    port = free_port() if port is None else port
    env = endpoints.env()
    if principal:
        env["SHAREBUS_SASL_USERNAME"] = principal
    env["SHAREBUS_WORKER_APP_ID"] = app_id
    env["SHAREBUS_WORKER_DATA_DIR"] = str(folder / "data")
    if port:
        env["SHAREBUS_WORKER_WEB_PORT"] = str(port)
    else:
        env.pop("SHAREBUS_WORKER_WEB_PORT", None)
    env["SHAREBUS_WORKER_MASK_KEYS"] = json.dumps(TEST_MASK_KEYS)
    env.update({f"SHAREBUS_WORKER_{k.upper()}": v for k, v in settings.items()})
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sharebus.cli", "worker"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=PROJECT_ROOT,
        )
    return WorkerProcess(proc, log, port)


def stop_worker(worker: WorkerProcess) -> None:
    if worker.alive():
        worker.proc.terminate()
        try:
            worker.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.proc.kill()
            worker.proc.wait()


@pytest.fixture(scope="session")
def worker(
    endpoints: Endpoints, sample_governance: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    """One worker for the session, with the sample governance applied.

    A worker of a new group reads every source topic from its beginning: one per session
    (not per test) keeps that to once. Tests isolate themselves by event ids and keys.
    """
    app_id = f"test-worker-{uuid.uuid4().hex[:8]}"
    started = spawn_worker(endpoints, tmp_path_factory.mktemp("worker"), app_id)
    try:
        started.wait_governance(sample_governance, timeout=180)
        yield started
    finally:
        stop_worker(started)


@pytest.fixture
def sample_afterwards(kafka_settings: KafkaSettings, worker: WorkerProcess) -> Iterator[None]:
    """The sample governance in force again after the test, whatever the test applied."""
    yield
    worker.wait_governance(apply_sample(kafka_settings))


def applied(folder: Path, settings: KafkaSettings, worker: WorkerProcess) -> int:
    """Apply a governance folder and wait until the worker has it in force; its version."""
    from sharebus.governance_log import apply_folder, read_current

    _, version = apply_folder(folder, settings)
    version = version or read_current(settings).version
    worker.wait_governance(version)
    return version


def run_cli(
    endpoints: Endpoints, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """`sharebus <args>` as a user runs it: its own process, exit code, stdout, stderr;
    `env` adds SHAREBUS_* variables (SHAREBUS_SASL_USERNAME="bank-ccb")."""
    return sharebus({**endpoints.env(), **env}, *args, stdin=stdin)


def sharebus(
    env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`sharebus <args>` in its own process with exactly the environment `env`."""
    return subprocess.run(
        [sys.executable, "-m", "sharebus.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
        check=False,
    )


def start_cli(endpoints: Endpoints, *args: str) -> subprocess.Popen[str]:
    """`sharebus <args>` started with pipes for stdin, stdout and stderr (text), for a test
    that feeds it, signals it or stops what it talks to while it runs. With Python's fault
    handler on: `stuck()` makes one that does not end say where it stood."""
    return subprocess.Popen(
        [sys.executable, "-m", "sharebus.cli", *args],
        env={**endpoints.env(), "PYTHONFAULTHANDLER": "1"},
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stuck(proc: subprocess.Popen[str]) -> str:
    """A process from `start_cli` that did not end: SIGABRT makes its fault handler print
    every thread's stack; that, with the end of what it wrote to stderr, for the failure."""
    proc.send_signal(signal.SIGABRT)
    try:
        _, stderr = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, stderr = proc.communicate()
    return f"the command did not end; its stderr ends with:\n{stderr[-6000:]}"


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll `predicate` until it returns a truthy value; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
