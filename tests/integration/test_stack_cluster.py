"""Three brokers from the same jars (`make up BROKERS=3`): replication factor 3 and min ISR 2
for topics and Kafka's internal ones, so a broker SIGKILLed while keyed events flow loses
nothing a read_committed reader was promised, and comes back with `up`.

The stack is its own: its folder, free ports, the shared download cache."""

from __future__ import annotations

import os
import socket
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

from foundation.settings import KafkaSettings, StackSettings, get_stack_settings
from governance.topics import Topics, TopicSpec
from sharebus.stack.local import LocalStack
from tests.integration.conftest import sharebus

KEYS = [f"91310000MA{n:07d}X" for n in range(60)]
BATCH = 50


def free_ports(count: int) -> int:
    """A first port of `count` consecutive free ones."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = int(s.getsockname()[1])
        if base + count < 65535 and all(_free(base + i) for i in range(count)):
            return base
    raise AssertionError("no run of free ports")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def cluster_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = free_ports(6)  # 3 client ports and 3 controller ports, interleaved
    registry = free_ports(2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHAREBUS_")}
    env.update(
        SHAREBUS_STACK_DIR=str(tmp_path_factory.mktemp("cluster") / "stack"),
        SHAREBUS_STACK_CACHE=str(get_stack_settings().cache),
        SHAREBUS_STACK_BROKERS="3",
        SHAREBUS_STACK_KAFKA_PORT=str(base),
        SHAREBUS_STACK_CONTROLLER_PORT=str(base + 1),
        SHAREBUS_STACK_REGISTRY_PORT=str(registry),
        SHAREBUS_STACK_REGISTRY_MANAGEMENT_PORT=str(registry + 1),
    )
    return env


def stack_of(env: dict[str, str]) -> LocalStack:
    prefix = "SHAREBUS_STACK_"
    fields = {k[len(prefix) :].lower(): v for k, v in env.items() if k.startswith(prefix)}
    return LocalStack(StackSettings(**fields), report=lambda line: None)  # type: ignore[arg-type]


class Flow:
    """Keyed events in transactions of BATCH, and one read_committed group reading them."""

    def __init__(self, settings: KafkaSettings, topic: str) -> None:
        conf = settings.librdkafka()
        self.topic = topic
        self.producer = Producer(
            {**conf, "transactional.id": f"cluster-test-{topic}", "linger.ms": 5}
        )
        self.producer.init_transactions(60)
        self.consumer = Consumer(
            {
                **conf,
                "group.id": f"cluster-test-{topic}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
            }
        )
        self.consumer.subscribe([topic])
        self.published: set[str] = set()
        self.read: list[str] = []
        self.retried = 0

    def publish(self, count: int) -> None:
        for start in range(0, count, BATCH):
            ids = [uuid.uuid4().hex for _ in range(min(BATCH, count - start))]
            self._transaction(ids)
            self.published.update(ids)
            self.consume(0.2)

    def _transaction(self, ids: list[str]) -> None:
        deadline = time.monotonic() + 90
        while True:
            self.producer.begin_transaction()
            for n, event in enumerate(ids):
                key = KEYS[(len(self.published) + n) % len(KEYS)]
                self.producer.produce(self.topic, key=key.encode(), value=event.encode())
            try:
                self.producer.commit_transaction(30)
                return
            except KafkaException as exc:
                err = exc.args[0]
                if time.monotonic() > deadline or not (err.txn_requires_abort() or err.retriable()):
                    raise
                self.retried += 1
                # Whatever was sent is aborted: read_committed readers never see it.
                self.producer.abort_transaction(30)

    def consume(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            msg = self.consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            self.read.append((msg.value() or b"").decode())
            self.consumer.commit(msg, asynchronous=True)

    def drain(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.published <= set(self.read):
            self.consume(1)

    def close(self) -> None:
        self.consumer.close()
        self.producer.flush(10)


def test_three_brokers_lose_nothing_when_one_is_killed(cluster_env: dict[str, str]) -> None:
    started = time.monotonic()
    up = sharebus(cluster_env, "up")
    assert up.returncode == 0, up.stderr
    stack = stack_of(cluster_env)
    try:
        took_up = time.monotonic() - started
        status = sharebus(cluster_env, "status").stdout
        for name in ("kafka-1", "kafka-2", "kafka-3", "registry"):
            assert any(ln.startswith(f"{name} ") and "running" in ln for ln in status.splitlines())
        settings = stack.admin_settings()
        assert len(settings.bootstrap.split(",")) == 3
        topic = f"pub.test.cluster-{uuid.uuid4().hex[:8]}"
        Topics(settings).ensure([TopicSpec(topic, 3)])
        admin = AdminClient(settings.librdkafka())
        assert_replicated(admin, topic, "__consumer_offsets")

        flow = Flow(settings, topic)
        try:
            flow.publish(1000)
            leader = admin.list_topics(topic, timeout=10).topics[topic].partitions[0].leader
            victim = f"kafka-{leader}"
            assert stack.stop(victim, kill=True), f"{victim} was not running"
            killed_at = time.monotonic()
            flow.publish(1000)
            during = time.monotonic() - killed_at
            restart = stack_of(cluster_env).up()
            flow.publish(500)
            flow.drain()
        finally:
            flow.close()
        assert_replicated(admin, "__transaction_state")
        distinct = set(flow.read)
        print(
            f"\ncluster: up {took_up:.1f}s; published {len(flow.published)}, read "
            f"{len(flow.read)} ({len(distinct)} distinct); {victim} killed, 1000 events "
            f"published in {during:.1f}s without it, {flow.retried} transactions retried; "
            f"restarted in {restart['kafka']:.1f}s"
        )
        assert distinct == flow.published, f"missing {len(flow.published - distinct)}"
        statuses = stack.status()
        assert all(c.running for c in statuses), statuses
    finally:
        down = sharebus(cluster_env, "down")
        assert down.returncode == 0, down.stderr
        assert not stack.stray_pids()


def assert_replicated(admin: AdminClient, *topics: str) -> None:
    """Three replicas and min ISR 2 for each topic."""
    for name in topics:
        meta = admin.list_topics(name, timeout=10).topics[name]
        assert {len(p.replicas) for p in meta.partitions.values()} == {3}, name
        resource = ConfigResource(ResourceType.TOPIC, name)
        config = admin.describe_configs([resource])[resource].result(timeout=10)
        assert config["min.insync.replicas"].value == "2", name


def test_the_count_a_stack_was_made_with_is_kept(cluster_env: dict[str, str]) -> None:
    """After the cluster test the folder holds a three-broker cluster: starting it as one
    broker is refused in one line, since it would make a second cluster beside it."""
    single = {**cluster_env, "SHAREBUS_STACK_BROKERS": "1"}
    if not Path(cluster_env["SHAREBUS_STACK_DIR"], "data", "brokers").exists():
        pytest.fail("runs after the cluster test, in the folder it made")
    result = sharebus(single, "up")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.strip().splitlines()[-1].startswith("error: the stack in ")
        and "was made with 3 broker(s), not 1" in result.stderr
    )
