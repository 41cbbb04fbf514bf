"""The local stack's Kafka nodes: one, or a cluster of several, and each one's config.

Every node is a combined broker and controller (KRaft): with three, the controllers are a
three-voter quorum and any one node may die. Simpler than separate controllers (fewer
processes and ports on a small machine), and what Kafka's own quick-starts run. One node
keeps the names it always had (`kafka`, `data/kafka`, `run/server.properties`), so a
single-broker stack is exactly what it was; a cluster's nodes are `kafka-1` ... `kafka-N`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from foundation.settings import ADMIN, StackSettings, scram_jaas
from sharebus.stack.certs import BROKER_PRINCIPAL, StackCerts


@dataclass(frozen=True)
class Node:
    id: int
    name: str
    port: int
    controller_port: int
    data: Path
    properties: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


def nodes_of(settings: StackSettings, stack_dir: Path) -> list[Node]:
    ports = zip(settings.kafka_ports(), settings.controller_ports(), strict=True)
    if settings.broker_count == 1:
        port, controller = next(ports)
        run = stack_dir / "run" / "server.properties"
        return [Node(1, "kafka", port, controller, stack_dir / "data" / "kafka", run)]
    return [
        Node(
            i,
            f"kafka-{i}",
            port,
            controller,
            stack_dir / "data" / f"kafka-{i}",
            stack_dir / "run" / f"kafka-{i}.properties",
        )
        for i, (port, controller) in enumerate(ports, start=1)
    ]


def server_properties(
    node: Node,
    nodes: list[Node],
    settings: StackSettings,
    certs: StackCerts,
    admin_password: str,
) -> dict[str, str]:
    voters = ",".join(f"{n.id}@127.0.0.1:{n.controller_port}" for n in nodes)
    props = {
        "process.roles": "broker,controller",
        "node.id": str(node.id),
        "controller.quorum.voters": voters,
        "listeners": f"CLIENT://{node.address},CONTROLLER://127.0.0.1:{node.controller_port}",
        "advertised.listeners": f"CLIENT://{node.address}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "CLIENT",
        # Clients authenticate with SCRAM over TLS. The controller listener takes only
        # the brokers' own certificate (mutual TLS): no client reaches it, and no
        # anonymous principal is ever a super user. One certificate for 127.0.0.1
        # serves every node's listeners.
        "listener.security.protocol.map": "CLIENT:SASL_SSL,CONTROLLER:SSL",
        "sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
        "listener.name.client.scram-sha-512.sasl.jaas.config": scram_jaas(ADMIN, admin_password),
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(certs.broker),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(certs.ca),
        "listener.name.controller.ssl.client.auth": "required",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{ADMIN};{BROKER_PRINCIPAL}",
        "log.dirs": str(node.data),
        "num.partitions": str(settings.partitions),
        **_replication(settings),
        # Few offsets partitions and no initial delay: the first group join is quick.
        "offsets.topic.num.partitions": "3",
        "group.initial.rebalance.delay.ms": "0",
        # Topics are code (`sharebus topics apply`); a typo must not create one.
        "auto.create.topics.enable": "false",
    }
    return props


def _replication(settings: StackSettings) -> dict[str, str]:
    """Internal topics on every broker, up to three; with three, a write needs two of
    them (min ISR 2), so one broker may die without losing an acknowledged record."""
    factor = settings.replication
    min_isr = 2 if factor >= 3 else 1
    props = {
        "offsets.topic.replication.factor": str(factor),
        "transaction.state.log.replication.factor": str(factor),
        "transaction.state.log.min.isr": str(min_isr),
        "share.coordinator.state.topic.replication.factor": str(factor),
        "share.coordinator.state.topic.min.isr": str(min_isr),
    }
    if settings.broker_count > 1:
        # Topics created with replication -1 (governance/topics.py) take these.
        props["default.replication.factor"] = str(factor)
        props["min.insync.replicas"] = str(min_isr)
    return props
