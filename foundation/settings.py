"""Settings for every deployable, read from `SHAREBUS_*` environment variables.

Built lazily through `get_settings()`, never at import time, so tests and the CLI can
set the environment first.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from foundation.errors import ConfigError
from foundation.secrets import SecretsFile

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The local stack's super user, created when its storage is formatted.
ADMIN = "sharebus-admin"


class KafkaSettings(BaseSettings):
    """How clients reach Kafka and the schema registry, and who they are there.

    Empty bootstrap means the local stack: its SASL_SSL listener, its CA, and (unless a
    username is set) its admin credential, all from the stack's git-ignored folder. A
    client of the local stack that names a principal finds its password there too.
    """

    model_config = SettingsConfigDict(env_prefix="SHAREBUS_", extra="ignore")

    bootstrap: str = Field(
        "", description="Kafka bootstrap servers, comma-separated; the local stack's when empty"
    )
    registry_url: str = Field(
        "", description="Confluent-compatible schema registry API; the local stack's when empty"
    )
    security_protocol: Literal["SASL_SSL", "SASL_PLAINTEXT", "SSL", "PLAINTEXT"] = Field(
        "SASL_SSL", description="PLAINTEXT only for a broker that has no security at all"
    )
    sasl_mechanism: str = "SCRAM-SHA-512"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: Path | None = Field(
        None, description="the CA (PEM) that signed the broker's certificate"
    )
    registry_username: str | None = None
    registry_password: SecretStr | None = None

    @model_validator(mode="after")
    def _default_to_local_stack(self) -> KafkaSettings:
        stack = get_stack_settings()
        if not self.bootstrap:
            self.bootstrap = stack.bootstrap
        if not self.registry_url:
            self.registry_url = f"http://127.0.0.1:{stack.registry_port}/apis/ccompat/v7"
        if not set(self.bootstrap.split(",")) <= set(stack.bootstrap.split(",")):
            return self
        # The local stack's own files, never sent to any other cluster.
        if self.ssl_ca_location is None and self.uses_ssl:
            self.ssl_ca_location = stack.ca_path
        if self.uses_sasl:
            self.sasl_username = self.sasl_username or ADMIN
            if self.sasl_password is None:
                self.sasl_password = stack.secrets().get(self.sasl_username)
        return self

    @property
    def uses_ssl(self) -> bool:
        return self.security_protocol in ("SASL_SSL", "SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def principal(self) -> str:
        """Who the broker will take this client for, as its error lines name it."""
        return self.sasl_username if self.uses_sasl and self.sasl_username else "ANONYMOUS"

    def as_principal(self, username: str, password: SecretStr | None = None) -> KafkaSettings:
        """The same cluster, as another principal (its password from the stack when local)."""
        return KafkaSettings(
            bootstrap=self.bootstrap,
            registry_url=self.registry_url,
            security_protocol=self.security_protocol,
            sasl_mechanism=self.sasl_mechanism,
            sasl_username=username,
            sasl_password=password,
            ssl_ca_location=self.ssl_ca_location,
            registry_username=self.registry_username,
            registry_password=self.registry_password,
        )

    def librdkafka(self) -> dict[str, Any]:
        """The librdkafka dotted keys for these settings."""
        from foundation.kafka_errors import LIBRDKAFKA_LOG, raise_on_auth_failure

        conf: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap,
            "security.protocol": self.security_protocol,
            "error_cb": raise_on_auth_failure(self.principal, self.bootstrap),
            # librdkafka's own lines go to a logger, never raw to stderr (foundation.logs
            # shows them only when asked for).
            "logger": LIBRDKAFKA_LOG,
        }
        if self.uses_ssl and self.ssl_ca_location:
            conf["ssl.ca.location"] = str(self.ssl_ca_location)
        if self.uses_sasl:
            conf["sasl.mechanism"] = self.sasl_mechanism
            conf["sasl.username"] = self.sasl_username or ""
            conf["sasl.password"] = self._password()
        return conf

    def java_config(self) -> dict[str, str]:
        """The Java client's settings for these (protocol, CA truststore, SCRAM login)."""
        props: dict[str, str] = {"security.protocol": self.security_protocol}
        if self.uses_ssl and self.ssl_ca_location:
            props["ssl.truststore.type"] = "PEM"
            props["ssl.truststore.location"] = str(self.ssl_ca_location)
        if self.uses_sasl:
            props["sasl.mechanism"] = self.sasl_mechanism
            props["sasl.jaas.config"] = scram_jaas(self.sasl_username or "", self._password())
        return props

    def java_properties(self) -> str:
        """A client properties file for Kafka's Java tools (`--command-config`).

        A properties file reads a backslash as an escape: values have theirs doubled (our
        keys have none)."""
        return "".join(
            f"{k}={v.replace(chr(92), chr(92) * 2)}\n" for k, v in self.java_config().items()
        )

    def _password(self) -> str:
        if not self.sasl_username:
            raise ConfigError(
                f"no Kafka credential for {self.bootstrap}: "
                "set SHAREBUS_SASL_USERNAME and SHAREBUS_SASL_PASSWORD"
            )
        if self.sasl_password is None:
            raise ConfigError(
                f"no password for Kafka principal '{self.sasl_username}': "
                "set SHAREBUS_SASL_PASSWORD (or run `sharebus principals apply` on the local stack)"
            )
        return self.sasl_password.get_secret_value()

    def registry(self) -> dict[str, Any]:
        """The confluent-kafka SchemaRegistryClient configuration.

        With a request timeout: the client's default is none, and one request the registry
        never answered held a reader for minutes. Timed out, the client asks again on a new
        connection (its retries cover transport errors)."""
        conf: dict[str, Any] = {"url": self.registry_url, "timeout": REGISTRY_REQUEST_TIMEOUT_S}
        if self.registry_username and self.registry_password:
            secret = self.registry_password.get_secret_value()
            conf["basic.auth.user.info"] = f"{self.registry_username}:{secret}"
        return conf


REGISTRY_REQUEST_TIMEOUT_S = 30


def scram_jaas(username: str, password: str) -> str:
    """The JAAS line of a Java Kafka client or broker logging in with SCRAM."""
    quoted = [v.replace("\\", "\\\\").replace('"', '\\"') for v in (username, password)]
    return (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{quoted[0]}" password="{quoted[1]}";'
    )


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
    kafka_heap: str = Field("768m", description="one broker's heap; 512m each of several")
    registry_heap: str = "512m"
    brokers: int | None = Field(
        None,
        ge=1,
        le=9,
        description="Kafka processes (3: a cluster with replication factor 3, min ISR 2); "
        "unset, the count the stack was made with, else 1",
    )
    partitions: int = 3
    java: str = Field("java", description="Java 17+ for Kafka")
    registry_java: str | None = Field(
        None, description="Java 21+ for Apicurio 3.2+; found under /usr/lib/jvm when unset"
    )
    mvn: str = "mvn"
    start_timeout: float = 120.0

    @property
    def broker_count(self) -> int:
        """How many brokers: as set, else as the stack's storage was made, else one."""
        if self.brokers is not None:
            return self.brokers
        try:
            return int(self.brokers_record.read_text().strip())
        except (OSError, ValueError):
            return 1

    @property
    def brokers_record(self) -> Path:
        """Written when a cluster's storage is formatted: later commands find its size."""
        return self.dir / "data" / "brokers"

    @property
    def replication(self) -> int:
        """Replicas per partition: every broker, up to three."""
        return min(self.broker_count, 3)

    @property
    def broker_heap(self) -> str:
        # Three 768m heaps and the registry would crowd a small machine: 512m each
        # unless one is set.
        if self.broker_count > 1 and "kafka_heap" not in self.model_fields_set:
            return "512m"
        return self.kafka_heap

    def kafka_ports(self) -> list[int]:
        """Each broker's client port: 9092, then 9094, 9096 (two apart: its controller's
        port is the one after, when the controller port is the one after the first)."""
        return [self.kafka_port + 2 * i for i in range(self.broker_count)]

    def controller_ports(self) -> list[int]:
        return [self.controller_port + 2 * i for i in range(self.broker_count)]

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port in self.kafka_ports())

    @property
    def security_dir(self) -> Path:
        """The CA, the broker's key and the generated passwords (git-ignored, 0600)."""
        return self.dir / "security"

    @property
    def ca_path(self) -> Path:
        return self.security_dir / "ca.pem"

    def secrets(self) -> SecretsFile:
        return SecretsFile(self.security_dir / "secrets.json")


class PrincipalSettings(BaseSettings):
    """Passwords of the bus's principals given by the operator (the rest are generated)."""

    model_config = SettingsConfigDict(env_prefix="SHAREBUS_PRINCIPAL_", extra="ignore")

    passwords: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='SCRAM passwords by user, as JSON: {"bank-ccb": "<secret>", ...}',
    )


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
