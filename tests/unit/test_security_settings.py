"""Credentials in settings: where they come from, where they go, and where they never show."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import KafkaError
from pydantic import SecretStr

from foundation.errors import ConfigError
from foundation.kafka_errors import KafkaAuthError, raise_on_auth_failure, refusal
from foundation.secrets import SecretsFile
from foundation.settings import ADMIN, KafkaSettings, get_stack_settings

PASSWORD = "s3cret-known-to-this-test"


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A local stack folder of this test's own, on port 29092."""
    for key in list(os.environ):
        if key.startswith("SHAREBUS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("SHAREBUS_STACK_DIR", str(tmp_path))
    monkeypatch.setenv("SHAREBUS_STACK_KAFKA_PORT", "29092")
    get_stack_settings.cache_clear()
    yield tmp_path
    get_stack_settings.cache_clear()


def test_empty_bootstrap_means_the_local_stack_as_its_admin(stack: Path) -> None:
    SecretsFile(stack / "security" / "secrets.json").put(ADMIN, PASSWORD)
    conf = KafkaSettings().librdkafka()
    assert conf["bootstrap.servers"] == "127.0.0.1:29092"
    assert conf["security.protocol"] == "SASL_SSL"
    assert conf["sasl.mechanism"] == "SCRAM-SHA-512"
    assert conf["sasl.username"] == ADMIN
    assert conf["sasl.password"] == PASSWORD
    assert conf["ssl.ca.location"] == str(stack / "security" / "ca.pem")


def test_a_named_principal_finds_its_password_in_the_stack(stack: Path) -> None:
    SecretsFile(stack / "security" / "secrets.json").put("bank-ccb", PASSWORD)
    settings = KafkaSettings(sasl_username="bank-ccb")
    assert settings.principal == "bank-ccb"
    assert settings.librdkafka()["sasl.password"] == PASSWORD


def test_another_cluster_never_gets_the_local_stacks_credentials(stack: Path) -> None:
    SecretsFile(stack / "security" / "secrets.json").put(ADMIN, PASSWORD)
    settings = KafkaSettings(bootstrap="kafka.example:9093")
    assert settings.ssl_ca_location is None
    with pytest.raises(ConfigError, match="set SHAREBUS_SASL_USERNAME and SHAREBUS_SASL_PASSWORD"):
        settings.librdkafka()


def test_plaintext_only_when_asked(stack: Path) -> None:
    conf = KafkaSettings(security_protocol="PLAINTEXT").librdkafka()
    assert conf["security.protocol"] == "PLAINTEXT"
    assert not any(k.startswith(("sasl.", "ssl.")) for k in conf)


def test_the_password_is_in_no_repr_and_no_error(stack: Path) -> None:
    settings = KafkaSettings(sasl_username="agency-tax", sasl_password=SecretStr(PASSWORD))
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in str(settings.model_dump())
    assert PASSWORD not in settings.model_dump_json()


def test_java_tools_get_a_properties_file(stack: Path) -> None:
    settings = KafkaSettings(sasl_username="bank-ccb", sasl_password=SecretStr(PASSWORD))
    props = dict(line.split("=", 1) for line in settings.java_properties().splitlines())
    assert props["security.protocol"] == "SASL_SSL"
    assert props["ssl.truststore.type"] == "PEM"
    assert props["ssl.truststore.location"] == str(stack / "security" / "ca.pem")
    assert props["sasl.mechanism"] == "SCRAM-SHA-512"
    assert f'username="bank-ccb" password="{PASSWORD}"' in props["sasl.jaas.config"]


def test_the_secrets_file_is_owner_only(tmp_path: Path) -> None:
    secrets = SecretsFile(tmp_path / "secrets.json")
    first = secrets.get_or_create("bank-ccb")
    assert secrets.get_or_create("bank-ccb").get_secret_value() == first.get_secret_value()
    assert len(first.get_secret_value()) >= 24
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600
    (tmp_path / "secrets.json").chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        secrets.get("bank-ccb")


def test_refusals_name_the_principal_and_the_resource() -> None:
    topic = KafkaError(KafkaError.TOPIC_AUTHORIZATION_FAILED)
    assert (
        refusal(topic, "agency-tax", "write to", "pub.hrss.x")
        == "agency-tax is not allowed to write to topic pub.hrss.x"
    )
    group = KafkaError(KafkaError.GROUP_AUTHORIZATION_FAILED)
    assert (
        refusal(group, "bank-ccb", "join", "bocom.loans")
        == "bank-ccb is not allowed to join consumer group bocom.loans"
    )
    login = KafkaError(
        KafkaError._AUTHENTICATION,
        "sasl_ssl://127.0.0.1:9092/bootstrap: SASL authentication error: Authentication "
        "failed due to invalid credentials (after 314ms in state AUTH_REQ)",
    )
    assert refusal(login, "bank-ccb", "connect to", "x") == (
        "Kafka refused to authenticate bank-ccb: Authentication failed due to invalid credentials"
    )
    assert refusal(KafkaError(KafkaError._TRANSPORT), "bank-ccb", "read", "x") is None


def test_a_connection_dropped_during_login_is_waited_out_but_a_refused_login_stops() -> None:
    on_error = raise_on_auth_failure("sharebus-admin", "127.0.0.1:9092")
    dropped = KafkaError(
        KafkaError._AUTHENTICATION,
        "GroupCoordinator: SASL SCRAM-SHA-512 mechanism handshake failed: Local: Broker"
        " transport failure: broker's supported mechanisms: (n/a)",
    )
    on_error(dropped)  # librdkafka connects again: nothing to stop
    refused = KafkaError(
        KafkaError._AUTHENTICATION,
        "sasl_ssl://127.0.0.1:9092/bootstrap: SASL authentication error: Authentication failed"
        " during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512",
    )
    with pytest.raises(KafkaAuthError, match="refused to authenticate sharebus-admin"):
        on_error(refused)
