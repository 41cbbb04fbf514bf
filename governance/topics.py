"""Topics as code: the topics the bus needs, and making the cluster have them.

`desired_topics` says what the catalog and the agreements need; `plan` compares that with
what `Topics.describe` read from the cluster, as a pure function; `Topics.apply` carries
a plan out. Kafka can add partitions but never remove them, so a topic with more
partitions than declared is a problem to report, not a change to make.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    ResourceType,
)

from foundation.errors import SharebusError
from foundation.kafka_errors import KafkaAuthError, cause, kafka_error, refusal
from foundation.settings import KafkaSettings, get_kafka_settings
from schemas import names

if TYPE_CHECKING:
    from concurrent.futures import Future

    from governance.models import Agreement
    from schemas.catalog import Catalog

DAY_MS = 24 * 3600 * 1000
# The only topic configs that plans compare and apply changes; a key we never declare
# is left to the broker's defaults and to whoever set it.
MANAGED_CONFIGS = ("cleanup.policy", "retention.ms", "retention.bytes")
SYSTEM_TOPICS = frozenset({*names.GOVERNANCE_TOPICS, names.AUDIT, names.DLQ, names.DLQ_REPLAYS})
# -1 is the broker's default.replication.factor: 1 on the local stack, 3 on three brokers.
REPLICATION = -1

Report = Callable[[str], None]


class TopicError(SharebusError):
    """A topic could not be read or created."""


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


def source_spec(category: str, partitions: int = 3) -> TopicSpec:
    # Latest record per enterprise is retained; deletes (tombstones) expire.
    return TopicSpec(
        names.source_topic(category),
        partitions,
        {"cleanup.policy": "compact,delete", "retention.ms": "-1"},
    )


def bank_spec(bank: str, category: str, partitions: int, retention_days: int) -> TopicSpec:
    retention = str(retention_days * DAY_MS)
    return TopicSpec(
        names.bank_topic(bank, category),
        partitions,
        {"cleanup.policy": "delete", "retention.ms": retention},
    )


def system_specs(partitions: int = 3) -> list[TopicSpec]:
    compact = {"cleanup.policy": "compact"}
    # Ledgers keep every entry: the consents in force are the fold of all of them, and the
    # governance log says when each version was applied, by whom and what it changed.
    ledger = {"cleanup.policy": "delete", "retention.ms": "-1"}
    return [
        TopicSpec(names.PARTIES, 1, compact),
        TopicSpec(names.ENTRUSTMENTS, 1, compact),
        TopicSpec(names.AGREEMENTS, 1, compact),
        TopicSpec(names.CONSENTS, partitions, ledger),
        TopicSpec(names.GOVERNANCE_LOG, 1, ledger),
        TopicSpec(
            names.AUDIT,
            partitions,
            {"cleanup.policy": "delete", "retention.ms": str(3650 * DAY_MS)},
        ),
        TopicSpec(
            names.DLQ, partitions, {"cleanup.policy": "delete", "retention.ms": str(30 * DAY_MS)}
        ),
        # Which dead letters were replayed, by their position: so that each is replayed once.
        TopicSpec(names.DLQ_REPLAYS, 1, compact),
    ]


def desired_topics(
    catalog: Catalog, agreements: Iterable[Agreement], partitions: int = 3
) -> list[TopicSpec]:
    """Every source topic, the system topics, and a bank topic per granted category.

    Bank topics keep their source topic's partition count (per-enterprise order end to
    end) and the longest retention any agreement of that bank grants the category. A
    suspended agreement keeps its topics (it may be reinstated); a terminated one does not.
    """
    retention: dict[tuple[str, str], int] = {}
    for agreement in agreements:
        if agreement.status == "terminated":
            continue  # a terminated agreement grants nothing: its topics are extra
        for grant in agreement.grants:
            if grant.category not in catalog:
                raise TopicError(
                    f"agreement {agreement.id} grants unknown category '{grant.category}'"
                )
            key = (agreement.bank, grant.category)
            retention[key] = max(retention.get(key, 0), grant.retention_days)
    specs = [source_spec(c.id, partitions) for c in catalog]
    specs += system_specs(partitions)
    specs += [
        bank_spec(bank, category, partitions, days)
        for (bank, category), days in sorted(retention.items())
    ]
    return specs


def is_managed(topic: str) -> bool:
    """Whether the topic is sharebus's own, so that a prune may delete it.

    Kafka's internals (`__*`), the registry's storage (`sharebus.registry.*`), workers'
    internal topics and anything else on the cluster never are.
    """
    return topic.startswith((names.SOURCE_PREFIX, names.BANK_PREFIX)) or topic in SYSTEM_TOPICS


@dataclass(frozen=True)
class PartitionIncrease:
    topic: str
    current: int
    wanted: int


@dataclass(frozen=True)
class ConfigChange:
    topic: str
    key: str
    current: str | None
    wanted: str


@dataclass(frozen=True)
class Plan:
    """What `Topics.apply` would do; `extra` topics are deleted only with prune."""

    create: tuple[TopicSpec, ...] = ()
    increase: tuple[PartitionIncrease, ...] = ()
    alter: tuple[ConfigChange, ...] = ()
    extra: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def nothing_to_do(self, prune: bool = False) -> bool:
        return not (self.create or self.increase or self.alter or (prune and self.extra))

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(action, topic, partitions, config) for each step, for people to read."""
        rows = [("create", s.name, str(s.partitions), _render(s.config)) for s in self.create]
        rows += [("partitions", i.topic, f"{i.current} -> {i.wanted}", "") for i in self.increase]
        rows += [
            ("config", c.topic, "", f"{c.key}: {c.current or '(unset)'} -> {c.wanted}")
            for c in self.alter
        ]
        rows += [("extra", name, "", "deleted only with prune") for name in self.extra]
        return rows


def plan(desired: Iterable[TopicSpec], cluster: Mapping[str, TopicSpec]) -> Plan:
    """Compare the declared topics with the cluster's (as `Topics.describe` returns them)."""
    wanted: dict[str, TopicSpec] = {}
    problems: list[str] = []
    for spec in desired:
        seen = wanted.setdefault(spec.name, spec)
        if seen != spec:
            problems.append(f"{spec.name} is declared twice with different settings")
    create, increase, alter = [], [], []
    for name, spec in wanted.items():
        current = cluster.get(name)
        if current is None:
            create.append(spec)
            continue
        if spec.partitions > current.partitions:
            increase.append(PartitionIncrease(name, current.partitions, spec.partitions))
        elif spec.partitions < current.partitions:
            problems.append(
                f"{name} has {current.partitions} partitions, {spec.partitions} declared: "
                "Kafka cannot decrease partitions (declare more, or recreate the topic)"
            )
        for key in MANAGED_CONFIGS:
            value = spec.config.get(key)
            if value is not None and not _same(key, value, current.config.get(key)):
                alter.append(ConfigChange(name, key, current.config.get(key), value))
    extra = sorted(name for name in cluster if is_managed(name) and name not in wanted)
    return Plan(tuple(create), tuple(increase), tuple(alter), tuple(extra), tuple(problems))


def _same(key: str, wanted: str, current: str | None) -> bool:
    if current is None:
        return False
    if key == "cleanup.policy":
        # A list: "compact,delete" and "delete,compact" are the same policy.
        return sorted(wanted.split(",")) == sorted(current.split(","))
    return wanted == current


def _render(config: Mapping[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(config.items()))


def _quiet(line: str) -> None:
    """A report that says nothing."""


class Topics:
    """A thin admin over the cluster's topics."""

    def __init__(self, settings: KafkaSettings | None = None) -> None:
        self.settings = settings or get_kafka_settings()
        self.admin = AdminClient(self.settings.librdkafka())

    def partitions(self, timeout: float = 10.0) -> dict[str, int]:
        """Every topic on the cluster and its partition count."""
        try:
            meta = self.admin.list_topics(timeout=timeout)
        except Exception as exc:
            # A refused login is queued for the error callback: serving it raises that line.
            self.admin.poll(0)
            raise TopicError(
                f"Kafka unreachable at {self.settings.bootstrap}: {cause(exc)}"
            ) from exc
        # A topic counts once every partition has a leader: before that, produce and
        # offset requests fail with NOT_LEADER_FOR_PARTITION.
        return {
            name: len(t.partitions)
            for name, t in meta.topics.items()
            if not t.error and t.partitions and all(p.leader >= 0 for p in t.partitions.values())
        }

    def describe(self, timeout: float = 5.0) -> dict[str, TopicSpec]:
        """Every topic but Kafka's internals: its partitions and the configs we manage."""
        counts = {n: p for n, p in self.partitions(timeout).items() if not n.startswith("__")}
        resources = [ConfigResource(ResourceType.TOPIC, name) for name in counts]
        described: dict[str, TopicSpec] = {}
        if not resources:
            return described
        futures = self.admin.describe_configs(resources, request_timeout=timeout)
        for resource, future in futures.items():
            name = resource.name
            try:
                entries = future.result(timeout=timeout)
            except Exception as exc:
                if _code(exc) == KafkaError.UNKNOWN_TOPIC_OR_PART:
                    continue  # deleted since the listing
                raise TopicError(f"reading the configs of {name} failed: {cause(exc)}") from exc
            config = {k: entries[k].value for k in MANAGED_CONFIGS if k in entries}
            described[name] = TopicSpec(name, counts[name], {k: v for k, v in config.items() if v})
        return described

    def apply(
        self, plan: Plan, prune: bool = False, report: Report = _quiet, timeout: float = 30.0
    ) -> None:
        """Create, grow, reconfigure and (with prune) delete, then wait until the cluster
        shows it. Problems of the plan are left as they are; the caller reports them."""
        if plan.create:
            new = [
                NewTopic(s.name, s.partitions, REPLICATION, config=dict(s.config))
                for s in plan.create
            ]
            futures = self.admin.create_topics(new, operation_timeout=timeout)
            # A worker may create a bank topic at the same moment: that is not a failure.
            self._wait(futures, "creating", timeout, ok=KafkaError.TOPIC_ALREADY_EXISTS)
            self._until(lambda now: all(s.name in now for s in plan.create), timeout)
            for s in plan.create:
                report(f"created {s.name}: {s.partitions} partitions, {_render(s.config)}")
        if plan.increase:
            grow = [NewPartitions(i.topic, i.wanted) for i in plan.increase]
            futures = self.admin.create_partitions(grow, operation_timeout=timeout)
            self._wait(futures, "adding partitions to", timeout)
            self._until(
                lambda now: all(now.get(i.topic, 0) >= i.wanted for i in plan.increase), timeout
            )
            for i in plan.increase:
                report(f"grew {i.topic}: {i.current} -> {i.wanted} partitions")
        if plan.alter:
            by_topic: dict[str, list[ConfigEntry]] = {}
            for c in plan.alter:
                entry = ConfigEntry(c.key, c.wanted, incremental_operation=AlterConfigOpType.SET)
                by_topic.setdefault(c.topic, []).append(entry)
            resources = [
                ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)
                for topic, entries in by_topic.items()
            ]
            altered = self.admin.incremental_alter_configs(resources, request_timeout=timeout)
            self._wait({r.name: f for r, f in altered.items()}, "configuring", timeout)
            # Accepted by the controller is not yet seen by the broker: wait until it is.
            self._configs_until(plan.alter, timeout)
            for c in plan.alter:
                report(f"set {c.topic}: {c.key}={c.wanted} (was {c.current or 'unset'})")
        if prune and plan.extra:
            self.delete(list(plan.extra), timeout)
            for name in plan.extra:
                report(f"deleted {name}")

    def delete(self, topics: list[str], timeout: float = 60.0) -> None:
        """Delete `topics` (one already gone counts as deleted) and wait until they are."""
        if not topics:
            return
        futures = self.admin.delete_topics(list(topics), operation_timeout=timeout)
        self._wait(futures, "deleting", timeout, ok=KafkaError.UNKNOWN_TOPIC_OR_PART)
        self._until(lambda now: not any(name in now for name in topics), timeout)

    def ensure(self, specs: list[TopicSpec], timeout: float = 30.0) -> list[str]:
        """Create the topics that do not exist; return the names created."""
        existing = self.partitions()
        unique = {s.name: s for s in specs}  # the broker refuses a request naming one twice
        wanted = [
            NewTopic(s.name, s.partitions, REPLICATION, config=dict(s.config))
            for s in unique.values()
            if s.name not in existing
        ]
        if not wanted:
            return []
        created = []
        for name, future in self.admin.create_topics(wanted, operation_timeout=timeout).items():
            try:
                future.result(timeout=timeout)
                created.append(name)
            except Exception as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    refused = refusal(kafka_error(exc), self.settings.principal, "create", name)
                    if refused:
                        # Not a TopicError: a refusal is not waited out (the worker retries those).
                        raise KafkaAuthError(refused) from None
                    raise TopicError(f"creating topic {name} failed: {exc}") from exc
        self._until(lambda now: all(t.topic in now for t in wanted), timeout)
        return created

    def _wait(
        self, futures: Mapping[str, Future[None]], doing: str, timeout: float, ok: int | None = None
    ) -> None:
        failed = []
        for name, future in futures.items():
            try:
                future.result(timeout=timeout)
            except Exception as exc:
                if ok is None or _code(exc) != ok:
                    action = _ACTION_OF[doing]
                    refused = refusal(kafka_error(exc), self.settings.principal, action, name)
                    failed.append(refused or f"{doing} {name}: {cause(exc)}")
        if failed:
            more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
            raise TopicError(f"{failed[0]}{more}")

    def _configs_until(self, changes: tuple[ConfigChange, ...], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            described = self.describe(timeout)
            if all(
                c.topic in described and described[c.topic].config.get(c.key) == c.wanted
                for c in changes
            ):
                return
            if time.monotonic() > deadline:
                raise TopicError(f"the cluster's configs did not catch up within {timeout:.0f}s")
            time.sleep(0.1)

    def _until(self, shown: Callable[[dict[str, int]], bool], timeout: float) -> None:
        """Wait until the metadata shows a change the controller has accepted."""
        deadline = time.monotonic() + timeout
        while not shown(self.partitions()):
            if time.monotonic() > deadline:
                raise TopicError(f"the cluster's metadata did not catch up within {timeout:.0f}s")
            time.sleep(0.1)


_ACTION_OF = {
    "creating": "create",
    "adding partitions to": "add partitions to",
    "configuring": "configure",
    "deleting": "delete",
}


def _code(exc: Exception) -> int | None:
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return int(exc.args[0].code())
    return None
