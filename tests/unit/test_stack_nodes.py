"""The local stack's Kafka nodes: one broker exactly as it always was; three, a cluster
with a three-voter quorum, replication factor 3 and min ISR 2, on ports that never meet."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from foundation.settings import StackSettings
from sharebus.stack.certs import StackCerts
from sharebus.stack.nodes import nodes_of, server_properties


@pytest.fixture(autouse=True)
def no_stack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defaults as a fresh clone has them, whatever stack this shell points at."""
    for name in list(os.environ):
        if name.startswith("SHAREBUS_STACK_"):
            monkeypatch.delenv(name)


def props(tmp_path: Path, **settings: object) -> list[dict[str, str]]:
    s = StackSettings(dir=tmp_path, **settings)  # type: ignore[arg-type]
    nodes = nodes_of(s, tmp_path)
    certs = StackCerts.under(tmp_path / "security")
    return [server_properties(n, nodes, s, certs, "not-a-secret") for n in nodes]


def test_one_broker_keeps_its_names_ports_and_single_replicas(tmp_path: Path) -> None:
    s = StackSettings(dir=tmp_path)
    [node] = nodes_of(s, tmp_path)
    assert (node.name, node.data, node.properties) == (
        "kafka",
        tmp_path / "data" / "kafka",
        tmp_path / "run" / "server.properties",
    )
    assert (s.bootstrap, s.broker_heap) == ("127.0.0.1:9092", "768m")
    [p] = props(tmp_path)
    assert p["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert p["offsets.topic.replication.factor"] == p["transaction.state.log.min.isr"] == "1"
    assert "default.replication.factor" not in p and "min.insync.replicas" not in p


def test_three_brokers_are_a_quorum_with_three_replicas_and_min_isr_two(tmp_path: Path) -> None:
    s = StackSettings(dir=tmp_path, brokers=3, kafka_port=19092, controller_port=19093)
    assert s.bootstrap == "127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096"
    assert s.broker_heap == "512m"
    nodes = nodes_of(s, tmp_path)
    ports = [p for n in nodes for p in (n.port, n.controller_port)]
    assert len(set(ports)) == 6
    assert [n.name for n in nodes] == ["kafka-1", "kafka-2", "kafka-3"]
    all_props = props(tmp_path, brokers=3, kafka_port=19092, controller_port=19093)
    assert {p["controller.quorum.voters"] for p in all_props} == {
        "1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097"
    }
    assert len({p["log.dirs"] for p in all_props}) == 3
    for p in all_props:
        assert p["default.replication.factor"] == p["offsets.topic.replication.factor"] == "3"
        assert p["transaction.state.log.replication.factor"] == "3"
        assert p["min.insync.replicas"] == p["transaction.state.log.min.isr"] == "2"
        assert p["advertised.listeners"] == p["listeners"].split(",")[0]


def test_a_set_heap_is_kept_for_every_broker(tmp_path: Path) -> None:
    assert StackSettings(dir=tmp_path, brokers=3, kafka_heap="1g").broker_heap == "1g"


def test_the_count_comes_from_the_stack_when_not_set(tmp_path: Path) -> None:
    s = StackSettings(dir=tmp_path)
    assert s.broker_count == 1
    s.brokers_record.parent.mkdir(parents=True)
    s.brokers_record.write_text("3\n")
    assert StackSettings(dir=tmp_path).broker_count == 3
    assert StackSettings(dir=tmp_path, brokers=1).broker_count == 1


@pytest.mark.parametrize("brokers", [0, 10])
def test_a_count_out_of_range_is_refused(tmp_path: Path, brokers: int) -> None:
    with pytest.raises(ValueError):
        StackSettings(dir=tmp_path, brokers=brokers)
