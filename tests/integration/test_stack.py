"""The local stack from jars: `up` twice is harmless, `down` leaves nothing behind, and
what cannot work says why in one line with a non-zero exit."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

from foundation.settings import get_stack_settings
from tests.integration.conftest import sharebus


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def stack_env(tmp_path: Path) -> dict[str, str]:
    """A second stack on free ports, its own data, the shared download cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHAREBUS_")}
    env.update(
        SHAREBUS_STACK_DIR=str(tmp_path / "stack"),
        SHAREBUS_STACK_CACHE=str(get_stack_settings().cache),
        SHAREBUS_STACK_KAFKA_PORT=str(free_port()),
        SHAREBUS_STACK_CONTROLLER_PORT=str(free_port()),
        SHAREBUS_STACK_REGISTRY_PORT=str(free_port()),
        SHAREBUS_STACK_REGISTRY_MANAGEMENT_PORT=str(free_port()),
    )
    return env


def ours(marker_dir: str) -> list[str]:
    out = subprocess.run(
        ["ps", "-eww", "-o", "pid,args"], capture_output=True, text=True, check=True
    )
    return [ln for ln in out.stdout.splitlines() if f"-Dsharebus.stack={marker_dir}" in ln]


def test_up_twice_then_down_leaves_no_process(endpoints: object, stack_env: dict[str, str]) -> None:
    # `endpoints` first: the shared download cache is filled before this stack uses it.
    marker = str(Path(stack_env["SHAREBUS_STACK_DIR"]).resolve())
    try:
        first = sharebus(stack_env, "up")
        assert first.returncode == 0, first.stdout + first.stderr
        assert "registry ready" in first.stdout
        assert "fetching" not in first.stdout, "the second stack must reuse the download cache"
        assert len(ours(marker)) == 2

        second = sharebus(stack_env, "up")
        assert second.returncode == 0, second.stderr
        assert "already running" in second.stdout
        assert len(ours(marker)) == 2, "a second `up` must not start more JVMs"

        status = sharebus(stack_env, "status")
        assert "kafka     running" in status.stdout
        assert "registry  running" in status.stdout
        run = Path(stack_env["SHAREBUS_STACK_DIR"]) / "run"
        for jvm in ("kafka", "registry"):
            gc = (run / f"{jvm}-gc.log").read_text()
            assert "Using G1" in gc or "Pause" in gc, f"{jvm}-gc.log says nothing of GC: {gc!r}"
        new_cluster_takes_the_readmes_commands(stack_env)
        a_restarted_registry_is_ready_only_when_it_holds_every_subject(stack_env)
    finally:
        down = sharebus(stack_env, "down")
    assert down.returncode == 0, down.stderr
    assert "stopped registry" in down.stdout
    assert ours(marker) == []
    after = sharebus(stack_env, "status")
    assert "nothing running" in after.stdout


def new_cluster_takes_the_readmes_commands(env: dict[str, str]) -> None:
    """On a cluster nothing was applied to: topics plan says only sources and system
    topics, governance apply needs no topics apply before it, and topics apply then makes
    the bank topics (each at once, not after a wait for governance topics)."""
    plan = sharebus(env, "topics", "plan")
    assert plan.returncode == 0, plan.stderr
    assert "no governance in force yet" in plan.stderr
    assert "bank." not in plan.stdout and "create  pub.tax.payment-record" in plan.stdout
    prune = sharebus(env, "topics", "apply", "--prune")
    assert prune.returncode == 2 and "would delete every bank topic" in prune.stderr
    applied = sharebus(env, "governance", "apply", "examples/governance")
    assert applied.returncode == 0, applied.stderr
    assert "applied governance version" in applied.stdout
    topics = sharebus(env, "topics", "apply")
    assert topics.returncode == 0, topics.stderr
    assert "created bank.ccb.tax.payment-record" in topics.stdout
    status = sharebus(env, "status")
    assert "governance       version" in status.stdout, status.stdout


def test_port_taken_is_one_line_and_non_zero(stack_env: dict[str, str]) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        stack_env["SHAREBUS_STACK_KAFKA_PORT"] = str(blocker.getsockname()[1])
        result = sharebus(stack_env, "up")
    assert result.returncode == 1
    assert (
        f"port {stack_env['SHAREBUS_STACK_KAFKA_PORT']} for kafka is already taken" in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert ours(str(Path(stack_env["SHAREBUS_STACK_DIR"]).resolve())) == []


def test_missing_java_is_one_line_and_non_zero(stack_env: dict[str, str]) -> None:
    stack_env["SHAREBUS_STACK_JAVA"] = "/nonexistent/java"
    result = sharebus(stack_env, "up")
    assert result.returncode == 1
    assert "Java 17+ (for Kafka) not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_maven_is_one_line_and_non_zero(stack_env: dict[str, str]) -> None:
    stack_env["SHAREBUS_STACK_MVN"] = "no-such-mvn"
    result = sharebus(stack_env, "up")
    assert result.returncode == 1
    assert "Maven (to fetch the jars) not found" in result.stderr


def test_failed_download_is_one_line_and_non_zero(
    stack_env: dict[str, str], tmp_path: Path
) -> None:
    stack_env["SHAREBUS_STACK_CACHE"] = str(tmp_path / "empty-cache")
    stack_env["SHAREBUS_STACK_KAFKA_VERSION"] = "0.0.0-no-such-version"
    result = sharebus(stack_env, "up")
    assert result.returncode == 1
    assert result.stderr.startswith("error: download failed:")
    assert len(result.stderr.strip().splitlines()) == 1


def a_restarted_registry_is_ready_only_when_it_holds_every_subject(env: dict[str, str]) -> None:
    """Its API answers while it replays its journal, with part of the subjects: `up` waits
    for all of them (a publish right after `up` failed on the half-loaded registry)."""
    registered = sharebus(env, "schemas", "register")
    assert registered.returncode == 0, registered.stderr
    url = f"http://127.0.0.1:{env['SHAREBUS_STACK_REGISTRY_PORT']}/apis/ccompat/v7/subjects"
    before = subjects(url)
    assert len(before) > 300, "the whole catalog is registered"
    run = Path(env["SHAREBUS_STACK_DIR"]) / "run"
    os.kill(int((run / "registry.pid").read_text()), signal.SIGKILL)
    again = sharebus(env, "up")
    assert again.returncode == 0, again.stderr
    assert subjects(url) == before


def subjects(url: str) -> list[str]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return sorted(json.load(resp))
