"""Settings for every deployable, read from `SHAREBUS_*` environment variables.

Built lazily through `get_settings()`, never at import time, so tests and the CLI can
set the environment first.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# librdkafka's own log lines go to this logger, never raw to stderr: a command prints one
# line per failure, and a process that configures logging (the worker, `--log-level
# debug`) still sees them.
CLIENT_LOG = logging.getLogger("sharebus.kafka")
CLIENT_LOG.addHandler(logging.NullHandler())


class KafkaSettings(BaseSettings):
    """How clients reach Kafka and the schema registry."""

    model_config = SettingsConfigDict(env_prefix="SHAREBUS_", extra="ignore")

    bootstrap: str = Field(
        "", description="Kafka bootstrap servers, comma-separated; the local stack's when empty"
    )
    registry_url: str = Field(
        "", description="Confluent-compatible schema registry API; the local stack's when empty"
    )
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    registry_username: str | None = None
    registry_password: SecretStr | None = None

    @model_validator(mode="after")
    def _default_to_local_stack(self) -> KafkaSettings:
        stack = get_stack_settings()
        if not self.bootstrap:
            self.bootstrap = f"127.0.0.1:{stack.kafka_port}"
        if not self.registry_url:
            self.registry_url = f"http://127.0.0.1:{stack.registry_port}/apis/ccompat/v7"
        return self

    def librdkafka(self) -> dict[str, Any]:
        """The librdkafka dotted keys for these settings."""
        conf: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": self.security_protocol,
            "logger": CLIENT_LOG,
        }
        if self.sasl_mechanism:
            conf["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username:
            conf["sasl.username"] = self.sasl_username
        if self.sasl_password:
            conf["sasl.password"] = self.sasl_password.get_secret_value()
        return conf

    def registry(self) -> dict[str, str]:
        """The confluent-kafka SchemaRegistryClient configuration."""
        conf = {"url": self.registry_url}
        if self.registry_username and self.registry_password:
            secret = self.registry_password.get_secret_value()
            conf["basic.auth.user.info"] = f"{self.registry_username}:{secret}"
        return conf


class StackSettings(BaseSettings):
    """The local stack started from jars (`make up`)."""

    model_config = SettingsConfigDict(env_prefix="SHAREBUS_STACK_", extra="ignore")

    dir: Path = Field(PROJECT_ROOT / ".stack", description="data, logs and pid files (git-ignored)")
    cache: Path = Field(
        PROJECT_ROOT / ".stack" / "cache", description="downloaded jars, shared by every stack"
    )
    kafka_version: str = "4.1.1"
    log4j_version: str = "2.24.3"
    apicurio_version: str = "3.3.3"
    kafka_port: int = 9092
    controller_port: int = 9093
    registry_port: int = 8081
    registry_management_port: int = 9001
    kafka_heap: str = "768m"
    registry_heap: str = "512m"
    partitions: int = 3
    java: str = Field("java", description="Java 17+ for Kafka")
    registry_java: str | None = Field(
        None, description="Java 21+ for Apicurio 3.2+; found under /usr/lib/jvm when unset"
    )
    mvn: str = "mvn"
    start_timeout: float = 120.0


class WorkerSettings(BaseSettings):
    """The fan-out worker."""

    model_config = SettingsConfigDict(env_prefix="SHAREBUS_WORKER_", extra="ignore")

    app_id: str = "sharebus-worker"
    source_pattern: str = r"pub\..*"
    governance_dir: Path = Field(PROJECT_ROOT / "examples" / "governance")
    web_port: int = Field(6066, description="status page (GET /status); 0 turns it off")
    data_dir: Path = Field(PROJECT_ROOT / ".stack" / "worker")
    guarantee: Literal["exactly_once", "at_least_once"] = Field(
        "exactly_once",
        description="exactly_once: one transaction per batch (read_committed readers see each"
        " output once); at_least_once: replays after a crash, dropped by source position",
    )
    session_timeout_ms: int = Field(
        6000, ge=1000, description="how soon a dead worker's partitions move to the others"
    )
    mask_keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='per-bank HMAC keys for `hash` masks, as JSON: {"ccb": "<secret>", ...}',
    )

    def mask_key_bytes(self) -> dict[str, bytes]:
        return {bank: key.get_secret_value().encode() for bank, key in self.mask_keys.items()}


@lru_cache(maxsize=1)
def get_kafka_settings() -> KafkaSettings:
    return KafkaSettings()


@lru_cache(maxsize=1)
def get_stack_settings() -> StackSettings:
    return StackSettings()


@lru_cache(maxsize=1)
def get_worker_settings() -> WorkerSettings:
    return WorkerSettings()
