"""Fixtures of the integration tier: one real broker and registry per session.

Found in this order: `SHAREBUS_BOOTSTRAP` / `SHAREBUS_REGISTRY_URL` when set; else the
local stack from jars (started if it is not running); else testcontainers, where a
Docker engine answers. Topic-level isolation comes from unique keys, event ids, group
ids and worker app ids per test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sharebus.settings import PROJECT_ROOT, KafkaSettings, get_stack_settings
from sharebus.stack.local import LocalStack

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Endpoints:
    bootstrap: str
    registry_url: str

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "SHAREBUS_BOOTSTRAP": self.bootstrap,
            "SHAREBUS_REGISTRY_URL": self.registry_url,
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
            yield Endpoints(kafka.get_bootstrap_server(), f"http://{host}:{port}/apis/ccompat/v7")


@pytest.fixture(scope="session")
def kafka_settings(endpoints: Endpoints) -> KafkaSettings:
    return KafkaSettings(bootstrap=endpoints.bootstrap, registry_url=endpoints.registry_url)


@pytest.fixture
def unique() -> str:
    """A short unique suffix for group ids, app ids and keys of one test."""
    return uuid.uuid4().hex[:10]


@dataclass
class WorkerProcess:
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None


@pytest.fixture
def start_worker(endpoints: Endpoints, tmp_path: Path, unique: str) -> Iterator[object]:
    """Start `sharebus worker` processes (real subprocesses); stop them after the test."""
    started: list[WorkerProcess] = []

    def start(governance: Path | None = None, app_id: str | None = None) -> WorkerProcess:
        n = len(started)
        log = tmp_path / f"worker-{n}.log"
        env = endpoints.env()
        env["SHAREBUS_WORKER_APP_ID"] = app_id or f"test-worker-{unique}"
        env["SHAREBUS_WORKER_DATA_DIR"] = str(tmp_path / f"worker-{n}")
        if governance is not None:
            env["SHAREBUS_WORKER_GOVERNANCE_DIR"] = str(governance)
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "sharebus.cli", "worker"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=PROJECT_ROOT,
            )
        worker = WorkerProcess(proc, log)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.alive():
            worker.proc.terminate()
            try:
                worker.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait()


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll `predicate` until it returns a truthy value; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
