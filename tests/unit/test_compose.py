"""docker-compose.yml, checked without Docker.

The file is validated against the Compose Specification's own JSON schema. No Docker engine
runs here and the network reaches only package registries, so the schema comes from PyPI:
check-jsonschema vendors the compose-spec project's `compose-spec.json` (with its sha256) in
its wheel. The wheel is downloaded once with `pip download` into .stack/cache (git-ignored)
and reused; without it and without network the tests fail, saying so.

Beyond the schema, the tests check what a user relies on: each service can be created, the
worker reaches the broker and registry by their in-network addresses, every JVM has a fixed
heap, and the registry starts only once Kafka is healthy and its topics exist.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema.validators import validator_for

from foundation.settings import StackSettings
from sharebus.stack.local import REGISTRY_TOPICS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
CACHE_DIR = ROOT / ".stack" / "cache" / "compose-spec"

# Pinned, so the schema changes only when this line does. 0.39.0 carries the newest
# compose-spec schema found on PyPI (JSON Schema 2020-12, with `jobs` and service hooks);
# docker-compose 1.29.2's compose/config/compose_spec.json is the 2021 one.
SCHEMA_PACKAGE = "check-jsonschema"
SCHEMA_VERSION = "0.39.0"
SCHEMA_WHEEL = f"check_jsonschema-{SCHEMA_VERSION}-py3-none-any.whl"
SCHEMA_MEMBER = "check_jsonschema/builtin_schemas/vendor/compose-spec.json"
SCHEMA_SHA256_MEMBER = "check_jsonschema/builtin_schemas/vendor/sha256/compose-spec.sha256"

JVM_IMAGES = ("apache/kafka:", "quay.io/apicurio/apicurio-registry:")


# ---- the schema -------------------------------------------------------------------------


class SchemaUnavailable(Exception):
    pass


def _download_wheel() -> Path:
    wheel = CACHE_DIR / SCHEMA_WHEEL
    if wheel.is_file() and zipfile.is_zipfile(wheel):
        return wheel
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    requirement = f"{SCHEMA_PACKAGE}=={SCHEMA_VERSION}"
    # Into a fresh folder first, so an interrupted download never passes for the cached wheel.
    with tempfile.TemporaryDirectory(dir=CACHE_DIR) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
        cmd += ["--disable-pip-version-check", "--no-input", "--timeout", "30", "--retries", "2"]
        cmd += [requirement, "-d", tmp]
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SchemaUnavailable(f"`pip download {requirement}` timed out") from exc
        got = Path(tmp) / SCHEMA_WHEEL
        if result.returncode != 0 or not got.is_file():
            lines = (result.stderr or result.stdout).strip().splitlines()
            cause = " | ".join(lines[-3:]) or f"exit code {result.returncode}"
            raise SchemaUnavailable(f"`pip download {requirement}` failed: {cause}")
        os.replace(got, wheel)
    return wheel


@cache
def _load_schema() -> dict[str, Any] | str:
    """The schema, or why it could not be had (kept, so only one download is tried)."""
    try:
        wheel = _download_wheel()
        with zipfile.ZipFile(wheel) as zf:
            raw = zf.read(SCHEMA_MEMBER)
            expected = zf.read(SCHEMA_SHA256_MEMBER).decode().split()[0]
    except (SchemaUnavailable, OSError, KeyError, zipfile.BadZipFile) as exc:
        return (
            "cannot get the Compose Specification JSON schema: it comes from the "
            f"{SCHEMA_PACKAGE}=={SCHEMA_VERSION} wheel on PyPI, downloaded once into {CACHE_DIR} "
            f"(needs PyPI reachable the first time). {exc}"
        )
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected:
        return f"{SCHEMA_MEMBER} in {wheel} has sha256 {actual}, the wheel says {expected}"
    schema: dict[str, Any] = json.loads(raw)
    return schema


def compose_schema() -> dict[str, Any]:
    loaded = _load_schema()
    if isinstance(loaded, str):
        pytest.fail(loaded, pytrace=False)
    return loaded


def schema_errors(doc: Any) -> list[str]:
    """Every way `doc` breaks the Compose Specification, as 'path: message' lines."""
    schema = compose_schema()
    cls = validator_for(schema)
    # validator_for falls back to the newest draft for a dialect it does not know.
    dialect = str(schema.get("$schema", "")).rstrip("#")
    assert str(cls.META_SCHEMA["$id"]).rstrip("#") == dialect, f"unknown dialect {dialect!r}"
    cls.check_schema(schema)
    errors = cls(schema).iter_errors(doc)
    found = [f"{'.'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}" for e in errors]
    return sorted(found)


# ---- the compose file -------------------------------------------------------------------


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(loaded, dict), f"{COMPOSE_FILE.name} is not a mapping"
    return loaded


def env(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) if "=" in item else (item, "") for item in raw)
    return {k: "" if v is None else str(v) for k, v in raw.items()}


def published(service: dict[str, Any]) -> dict[int, int]:
    """Container port -> host port, for the short `[ip:]host:container` syntax."""
    out = {}
    for spec in service.get("ports", []):
        parts = str(spec).split("/")[0].split(":")
        assert len(parts) >= 2, f"port {spec!r} is not published on the host"
        out[int(parts[-1])] = int(parts[-2])
    return out


def listeners(value: str) -> dict[str, str]:
    """'NAME://host:port,...' -> {NAME: 'host:port'}."""
    return dict(item.split("://", 1) for item in value.split(","))


# ---- the schema, and that it can say no ----------------------------------------------------


def test_compose_file_follows_the_compose_specification(doc: dict[str, Any]) -> None:
    errors = schema_errors(doc)
    assert not errors, "docker-compose.yml breaks the Compose Specification:\n" + "\n".join(errors)


def test_no_obsolete_version_key(doc: dict[str, Any]) -> None:
    # The specification ignores it and Compose v2 warns about it.
    assert "version" not in doc


def _ports_as_mapping(d: dict[str, Any]) -> None:
    d["services"]["kafka"]["ports"] = {"9092": 19092}


def _unknown_top_level_key(d: dict[str, Any]) -> None:
    d["servcies"] = {}


def _unknown_service_attribute(d: dict[str, Any]) -> None:
    # Caught only through `unevaluatedProperties` (2020-12): proves the dialect is honoured.
    d["services"]["registry"]["helthcheck"] = d["services"]["registry"]["healthcheck"]


def _unknown_depends_on_condition(d: dict[str, Any]) -> None:
    d["services"]["registry"]["depends_on"]["kafka"]["condition"] = "service_ready"


@pytest.mark.parametrize(
    ("breakage", "where"),
    [
        (_ports_as_mapping, "services.kafka.ports"),
        (_unknown_top_level_key, "servcies"),
        (_unknown_service_attribute, "helthcheck"),
        (_unknown_depends_on_condition, "services.registry.depends_on"),
    ],
)
def test_schema_rejects_a_broken_copy(doc: dict[str, Any], breakage: Any, where: str) -> None:
    broken = copy.deepcopy(doc)
    breakage(broken)
    errors = schema_errors(broken)
    assert errors, f"{breakage.__name__}: the schema accepted a broken compose file"
    assert any(where in e for e in errors), f"no error mentions {where!r}: {errors}"


# ---- what a user relies on ------------------------------------------------------------------


def test_every_service_has_an_image_or_a_build(doc: dict[str, Any]) -> None:
    missing = [
        name for name, s in doc["services"].items() if not (s.get("image") or s.get("build"))
    ]
    assert not missing, f"services with neither image nor build: {missing}"


def test_worker_uses_the_in_network_addresses(doc: dict[str, Any]) -> None:
    services = doc["services"]
    worker = env(services["worker"])
    kafka = env(services["kafka"])

    advertised = listeners(kafka["KAFKA_ADVERTISED_LISTENERS"]).values()
    assert worker["SHAREBUS_BOOTSTRAP"] in advertised
    assert worker["SHAREBUS_BOOTSTRAP"].split(":")[0] == "kafka"

    url = urlsplit(worker["SHAREBUS_REGISTRY_URL"])
    assert url.path.rstrip("/").endswith("/apis/ccompat/v7")
    assert url.hostname == "registry"
    # The container port, not the one published on the host.
    assert url.port in published(services["registry"])


def test_every_jvm_service_sets_an_explicit_heap(doc: dict[str, Any]) -> None:
    jvms = {n: s for n, s in doc["services"].items() if s.get("image", "").startswith(JVM_IMAGES)}
    assert {"kafka", "registry-topics", "registry"} <= set(jvms)
    for name, service in jvms.items():
        variables = env(service)
        opts = variables.get("KAFKA_HEAP_OPTS") or variables.get("JAVA_OPTS") or ""
        assert "-Xmx" in opts, f"{name} leaves its heap to the JVM's defaults"


def test_kafka_healthcheck_does_not_take_the_brokers_heap(doc: dict[str, Any]) -> None:
    # The check runs in the broker's container, so it would inherit KAFKA_HEAP_OPTS.
    test = doc["services"]["kafka"]["healthcheck"]["test"]
    command = " ".join(test) if isinstance(test, list) else test
    assert "KAFKA_HEAP_OPTS=" in command
    assert "kafka-broker-api-versions.sh" in command or "kafka-topics.sh" in command


def test_registry_starts_after_kafka_is_healthy_and_its_topics_exist(
    doc: dict[str, Any],
) -> None:
    depends = doc["services"]["registry"]["depends_on"]
    assert depends["kafka"]["condition"] == "service_healthy"
    assert depends["registry-topics"]["condition"] == "service_completed_successfully"


def test_every_health_dependency_has_a_healthcheck(doc: dict[str, Any]) -> None:
    services = doc["services"]
    for name, service in services.items():
        depends = service.get("depends_on") or {}
        for target, spec in depends.items() if isinstance(depends, dict) else []:
            if spec.get("condition") == "service_healthy":
                check = services[target].get("healthcheck") or {}
                assert check.get("test") and not check.get("disable"), (
                    f"{name} waits for {target} to be healthy, which has no healthcheck"
                )
            if spec.get("condition") == "service_completed_successfully":
                assert services[target].get("restart", "no") == "no", (
                    f"{name} waits for {target} to finish, which is restarted"
                )


def test_registry_topics_are_the_stacks_with_retention_off(doc: dict[str, Any]) -> None:
    services = doc["services"]
    registry = env(services["registry"])
    assert registry["APICURIO_STORAGE_KIND"] == "kafkasql"
    assert (registry["APICURIO_KAFKASQL_TOPIC"], registry["APICURIO_KAFKASQL_SNAPSHOTS_TOPIC"]) == (
        REGISTRY_TOPICS
    )
    assert (
        registry["APICURIO_KAFKASQL_BOOTSTRAP_SERVERS"]
        in listeners(env(services["kafka"])["KAFKA_ADVERTISED_LISTENERS"]).values()
    )

    job = services["registry-topics"]
    script = " ".join([*job.get("entrypoint", []), *job.get("command", [])])
    for topic in REGISTRY_TOPICS:
        assert f" {topic}" in script, f"registry-topics does not create {topic}"
    for needed in ("--create", "--if-not-exists", "retention.ms=-1", "retention.bytes=-1"):
        assert needed in script


def test_host_addresses_are_the_local_stacks(doc: dict[str, Any]) -> None:
    # Same host ports as `make up`, so the SHAREBUS_* defaults reach either stack.
    defaults = StackSettings.model_fields
    services = doc["services"]
    kafka = env(services["kafka"])
    host_ports = published(services["kafka"])
    assert defaults["kafka_port"].default in host_ports.values()
    # What the host connects to is what the broker advertises for the published listener,
    # and that listener binds the container port the host port is published onto.
    host_address = f"127.0.0.1:{defaults['kafka_port'].default}"
    advertised = listeners(kafka["KAFKA_ADVERTISED_LISTENERS"])
    names = [name for name, address in advertised.items() if address == host_address]
    assert names, f"no listener advertises {host_address}"
    bound_port = int(listeners(kafka["KAFKA_LISTENERS"])[names[0]].rsplit(":", 1)[1])
    assert host_ports.get(bound_port) == defaults["kafka_port"].default
    assert published(services["registry"]) == {8080: defaults["registry_port"].default}
    assert kafka["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
