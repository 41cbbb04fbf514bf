"""`sharebus kafka <tool> ...`: Kafka's own command-line tools, from the jars the local
stack downloaded, against the configured cluster and credentials.

The tools are Java classes in `kafka-tools`; each is run with the bootstrap servers and a
client properties file rendered from `KafkaSettings` (written private to the user, and
removed afterwards), unless the caller passes their own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from foundation.errors import ConfigError, UsageError
from foundation.settings import KafkaSettings, StackSettings

# tool -> (main class, the option that takes a client properties file)
TOOLS = {
    "kafka-consumer-groups": (
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        "--command-config",
    ),
    "kafka-console-consumer": (
        "org.apache.kafka.tools.consumer.ConsoleConsumer",
        "--consumer.config",
    ),
    "kafka-topics": ("org.apache.kafka.tools.TopicCommand", "--command-config"),
    # The broker's ceiling, as `make bench` measures it.
    "kafka-producer-perf-test": ("org.apache.kafka.tools.ProducerPerformance", "--producer.config"),
    "kafka-consumer-perf-test": (
        "org.apache.kafka.tools.ConsumerPerformance",
        "--consumer.config",
    ),
}
# The producer's perf test takes its servers as a producer property, not an option.
PRODUCER_PROPS = {"kafka-producer-perf-test"}
HEAP = "256m"


def client_properties(settings: KafkaSettings) -> dict[str, str]:
    """The Java client properties for what `KafkaSettings` holds."""
    return settings.java_config()


def command(
    tool: str, args: list[str], kafka: KafkaSettings, stack: StackSettings, config: Path
) -> list[str]:
    """The java command line for `tool args`, with `config` as its client properties."""
    if tool not in TOOLS:
        raise UsageError(f"unknown tool '{tool}': one of {', '.join(TOOLS)}")
    main_class, config_option = TOOLS[tool]
    libs = stack.cache.resolve() / f"kafka-{stack.kafka_version}" / "libs"
    if not (libs / f"kafka-tools-{stack.kafka_version}.jar").exists():
        raise ConfigError(f"Kafka's tools are not in {libs}: run `sharebus up` once to fetch them")
    java = shutil.which(stack.java)
    if java is None:
        raise ConfigError(f"Java 17+ not found ('{stack.java}'): set SHAREBUS_STACK_JAVA")
    log_config = resources.files("sharebus.stack").joinpath("tools-log4j2.properties")
    cmd = [java, f"-Xmx{HEAP}", f"-Dlog4j2.configurationFile={log_config}", "-cp", f"{libs}/*"]
    cmd.append(main_class)
    if "--help" in args or "--version" in args:
        return [*cmd, *args]
    if tool in PRODUCER_PROPS:
        if "--producer-props" not in args:
            cmd += ["--producer-props", f"bootstrap.servers={kafka.bootstrap}"]
    elif "--bootstrap-server" not in args:
        cmd += ["--bootstrap-server", kafka.bootstrap]
    if config_option not in args:
        cmd += [config_option, str(config)]
    return [*cmd, *args]


def run(tool: str, args: list[str], kafka: KafkaSettings, stack: StackSettings) -> int:
    """Run the tool in the foreground; its exit code."""
    with _properties(kafka) as config:
        return subprocess.run(command(tool, args, kafka, stack, config), check=False).returncode


def output(tool: str, args: list[str], kafka: KafkaSettings, stack: StackSettings) -> str:
    """Run the tool and return what it printed; ConfigError when it fails."""
    with _properties(kafka) as config:
        done = subprocess.run(
            command(tool, args, kafka, stack, config), capture_output=True, text=True, check=False
        )
    if done.returncode != 0:
        raise ConfigError(f"{tool} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout


@contextmanager
def _properties(kafka: KafkaSettings) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sharebus-kafka-") as folder:
        config = Path(folder) / "client.properties"
        # Created private: it may hold a password.
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(kafka.java_properties())
        yield config
