"""Who may do what on the bus: the principals and the ACLs derived from the parties.

A pure function of the agency and bank ids and the names of the design: prefixes make
the ACLs few (an agency writes `pub.<agency>.`, a bank reads `bank.<bank>.` with groups
`<bank>.`). The broker denies what no ACL allows (`allow.everyone.if.no.acl.found=false`),
so everything missing here is forbidden.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schemas import names

OPERATOR = "sharebus-operator"
WORKERS = "sharebus-worker"
REGISTRY = "sharebus-registry"
# Apicurio's kafkasql storage joins a new group on every start, named from this prefix.
REGISTRY_GROUP_PREFIX = "sharebus-registry-"
REGISTRY_TOPIC_PREFIX = "sharebus.registry."
# The governance writer's transactional id (`sharebus.governance_log`): a version is
# written in one transaction, so only the operator may hold it.
GOVERNANCE_WRITER = "sharebus-governance-writer"
# The workers' consumer groups, transactional ids and faust's own topics are named after
# the app id, which starts with this for every worker.
WORKER_PREFIX = "sharebus-worker"
FEED_GROUP_PREFIX = "sharebus-"

TOPIC, GROUP, TRANSACTIONAL_ID = "topic", "group", "transactional_id"
LITERAL, PREFIXED = "literal", "prefixed"


def agency_principal(agency: str) -> str:
    return f"agency-{agency}"


def bank_principal(bank: str) -> str:
    return f"bank-{bank}"


@dataclass(frozen=True, order=True)
class Acl:
    """One allow rule: `principal` may do `operation` on the resource (host `*`)."""

    principal: str
    resource: str
    pattern: str
    name: str
    operation: str

    def __str__(self) -> str:
        star = "*" if self.pattern == PREFIXED else ""
        return f"User:{self.principal} {self.operation} {self.resource} {self.name}{star}"


def principals(agencies: Iterable[str], banks: Iterable[str]) -> list[str]:
    """Every SCRAM user of the bus (the stack's admin is made with the stack)."""
    parties = [agency_principal(a) for a in sorted(agencies)]
    parties += [bank_principal(b) for b in sorted(banks)]
    return [*parties, WORKERS, OPERATOR, REGISTRY]


def derive_acls(agencies: Iterable[str], banks: Iterable[str]) -> frozenset[Acl]:
    """The ACLs of the whole bus for these parties."""
    acls: set[Acl] = set()

    def allow(who: str, resource: str, pattern: str, name: str, *ops: str) -> None:
        acls.update(Acl(who, resource, pattern, name, op) for op in ops)

    for agency in agencies:
        who = agency_principal(agency)
        # An idempotent producer needs only WRITE on its topics (Kafka 3.0+).
        allow(who, TOPIC, PREFIXED, f"{names.SOURCE_PREFIX}{agency}.", "WRITE", "DESCRIBE")
    for bank in banks:
        who = bank_principal(bank)
        allow(who, TOPIC, PREFIXED, f"{names.BANK_PREFIX}{bank}.", "READ", "DESCRIBE")
        allow(who, GROUP, PREFIXED, f"{bank}.", "READ", "DESCRIBE")
    acls |= registry_acls()
    # Workers: read sources and governance, write bank topics (creating them on first
    # use), the audit and the dead letters; their consumer group and faust's own topics.
    allow(WORKERS, TOPIC, PREFIXED, names.SOURCE_PREFIX, "READ", "DESCRIBE")
    for topic in names.GOVERNANCE_TOPICS:
        allow(WORKERS, TOPIC, LITERAL, topic, "READ", "DESCRIBE")
    # READ too: when an agreement ends with `on_end: retract`, the workers read what the
    # bank holds (its compacted topic) to retract it. They read every source already.
    allow(WORKERS, TOPIC, PREFIXED, names.BANK_PREFIX, "READ", "WRITE", "DESCRIBE", "CREATE")
    for topic in (names.AUDIT, names.DLQ):
        allow(WORKERS, TOPIC, LITERAL, topic, "WRITE", "DESCRIBE")
    # Only to see that it exists (a worker makes sure of every system topic when it starts).
    allow(WORKERS, TOPIC, LITERAL, names.DLQ_REPLAYS, "DESCRIBE")
    allow(WORKERS, GROUP, PREFIXED, WORKER_PREFIX, "READ", "DESCRIBE")
    # The governance and profile feeds assign partitions and commit nothing, but
    # librdkafka still looks up the coordinator of their group (`sharebus-<feed>-reader`).
    for who in (WORKERS, OPERATOR):
        allow(who, GROUP, PREFIXED, FEED_GROUP_PREFIX, "DESCRIBE")
    allow(WORKERS, TOPIC, PREFIXED, WORKER_PREFIX, "ALL")
    # Each worker writes a batch's outputs and source offsets in one transaction, under an
    # id named after its app id.
    allow(WORKERS, TRANSACTIONAL_ID, PREFIXED, WORKER_PREFIX, "WRITE", "DESCRIBE")
    # The operator: the only writer of governance; manages topics without reading data.
    for topic in names.GOVERNANCE_TOPICS:
        allow(OPERATOR, TOPIC, LITERAL, topic, "READ", "WRITE")
    allow(OPERATOR, TRANSACTIONAL_ID, LITERAL, GOVERNANCE_WRITER, "WRITE", "DESCRIBE")
    for prefix in (names.SOURCE_PREFIX, names.BANK_PREFIX, "sharebus."):
        allow(OPERATOR, TOPIC, PREFIXED, prefix, *_MANAGE)
    return frozenset(acls)


_MANAGE = ("CREATE", "DELETE", "DESCRIBE", "ALTER", "DESCRIBE_CONFIGS", "ALTER_CONFIGS")


def registry_acls() -> frozenset[Acl]:
    """What Apicurio's kafkasql storage needs: its own topics and groups, nothing else."""
    ops = ("READ", "WRITE", "DESCRIBE", "CREATE", "DESCRIBE_CONFIGS")
    topics = {Acl(REGISTRY, TOPIC, PREFIXED, REGISTRY_TOPIC_PREFIX, op) for op in ops}
    groups = {
        Acl(REGISTRY, GROUP, PREFIXED, REGISTRY_GROUP_PREFIX, op) for op in ("READ", "DESCRIBE")
    }
    return frozenset(topics | groups)
