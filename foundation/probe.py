"""Is the broker there, is the registry there: asked first, with short timeouts.

A command that needs either says at once which one is unreachable and at which address,
instead of letting a client retry for a minute. A closed port is refused within
milliseconds; a host that does not answer at all is given `timeout` seconds.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import httpx
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from foundation.errors import SharebusError
from foundation.settings import KafkaSettings, get_kafka_settings

TIMEOUT = 5.0


class UnreachableError(SharebusError):
    """The broker or the schema registry does not answer."""


@dataclass(frozen=True)
class Health:
    """One service's answer to a probe: `problem` is None when it is healthy."""

    name: str
    address: str
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def require(
    kafka: bool = False,
    registry: bool = False,
    settings: KafkaSettings | None = None,
    timeout: float = TIMEOUT,
) -> None:
    """Raise UnreachableError naming the first service needed that does not answer."""
    settings = settings or get_kafka_settings()
    for wanted, probe in ((kafka, kafka_health), (registry, registry_health)):
        if wanted:
            health = probe(settings, timeout)
            if health.problem:
                raise UnreachableError(health.problem)


def kafka_health(settings: KafkaSettings, timeout: float = TIMEOUT) -> Health:
    address = settings.bootstrap
    refused = [_connect_problem(host_port, timeout) for host_port in _servers(address)]
    if refused and all(refused):
        return Health("kafka", address, f"Kafka unreachable at {address}: {refused[0]}")
    admin = AdminClient(settings.librdkafka())
    try:
        admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        # A refused login is queued for the settings' error callback: serving it raises
        # that one line (KafkaAuthError), which says more than "unreachable".
        admin.poll(0)
        cause = exc.args[0].str() if exc.args else str(exc)
        return Health("kafka", address, f"Kafka unreachable at {address}: {cause}")
    return Health("kafka", address, None)


def registry_health(settings: KafkaSettings, timeout: float = TIMEOUT) -> Health:
    url = settings.registry_url.rstrip("/")
    auth = None
    if settings.registry_username and settings.registry_password:
        auth = (settings.registry_username, settings.registry_password.get_secret_value())
    try:
        response = httpx.get(f"{url}/subjects", timeout=timeout, auth=auth)
    except httpx.HTTPError as exc:
        cause = str(exc) or type(exc).__name__
        return Health("registry", url, f"schema registry unreachable at {url}: {cause}")
    if response.status_code in (401, 403):
        problem = f"schema registry at {url} refused the credentials (HTTP {response.status_code})"
        return Health("registry", url, problem)
    if response.status_code != 200:
        problem = (
            f"schema registry at {url} answered HTTP {response.status_code}: "
            "is it a Confluent-compatible API (…/apis/ccompat/v7 on Apicurio)?"
        )
        return Health("registry", url, problem)
    return Health("registry", url, None)


def _servers(bootstrap: str) -> list[tuple[str, int]]:
    servers = []
    for item in bootstrap.split(","):
        item = item.strip().rsplit("://", 1)[-1]
        host, _, port = item.rpartition(":")
        if host and port.isdigit():
            servers.append((host.strip("[]"), int(port)))
    return servers


def _connect_problem(server: tuple[str, int], timeout: float) -> str | None:
    try:
        with socket.create_connection(server, timeout=timeout):
            return None
    except OSError as exc:
        return exc.strerror or str(exc) or type(exc).__name__
