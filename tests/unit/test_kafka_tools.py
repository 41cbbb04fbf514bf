"""`sharebus kafka <tool>`: the java command line and the client properties it gets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from foundation.errors import UsageError
from foundation.settings import KafkaSettings, StackSettings
from sharebus.kafka_tools import client_properties, command

KAFKA = KafkaSettings(
    bootstrap="broker:9093", registry_url="http://r/apis/ccompat/v7", security_protocol="PLAINTEXT"
)


def test_plaintext_settings_render_the_protocol_only() -> None:
    assert client_properties(KAFKA) == {"security.protocol": "PLAINTEXT"}


def test_scram_credentials_become_a_jaas_line_with_quotes_escaped() -> None:
    settings = KAFKA.model_copy(
        update={
            "security_protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_username": "ops",
            "sasl_password": SecretStr('pa"ss'),
        }
    )
    props = client_properties(settings)
    assert props["security.protocol"] == "SASL_SSL"
    assert props["sasl.jaas.config"] == (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="ops" password="pa\\"ss";'
    )


def fetched(tmp_path: Path) -> tuple[StackSettings, Path]:
    """A stack cache holding Kafka's tools jar, and where the client properties go."""
    libs = tmp_path / "kafka-4.1.1" / "libs"
    libs.mkdir(parents=True)
    (libs / "kafka-tools-4.1.1.jar").touch()
    return StackSettings(cache=tmp_path, kafka_version="4.1.1"), tmp_path / "client.properties"


def test_the_tool_gets_the_cluster_and_the_properties_unless_given(tmp_path: Path) -> None:
    stack, config = fetched(tmp_path)
    cmd = command("kafka-consumer-groups", ["--list"], KAFKA, stack, config)
    assert cmd[-5:] == [
        "--bootstrap-server",
        "broker:9093",
        "--command-config",
        str(config),
        "--list",
    ]
    assert "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand" in cmd
    own = command("kafka-topics", ["--bootstrap-server", "other:1", "--list"], KAFKA, stack, config)
    assert own.count("--bootstrap-server") == 1 and "other:1" in own
    with pytest.raises(UsageError, match="unknown tool 'kafka-nope'"):
        command("kafka-nope", [], KAFKA, stack, config)


def test_the_producer_perf_test_gets_the_cluster_as_a_producer_property(tmp_path: Path) -> None:
    stack, config = fetched(tmp_path)
    cmd = command("kafka-producer-perf-test", ["--topic", "t"], KAFKA, stack, config)
    assert "--bootstrap-server" not in cmd
    assert cmd[-6:] == [
        "--producer-props",
        "bootstrap.servers=broker:9093",
        "--producer.config",
        str(config),
        "--topic",
        "t",
    ]
