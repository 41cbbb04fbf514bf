"""Writing governance to the bus as versions, and reading the version in force.

`write` puts the records of one apply and its `VersionMark` into one Kafka transaction:
all of an apply is visible, or none of it (a crash mid-way aborts it). The transactional
id is fixed, so a second writer fences the first rather than interleave with it.
`apply_folder` is the operator's reconcile: the plan against what is in force, then
exactly that plan, as one version.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException, Producer

from foundation.kafka_errors import check_readable, kafka_error, refusal
from foundation.settings import KafkaSettings, get_kafka_settings
from governance import codec
from governance.errors import GovernanceError
from governance.models import Governance, VersionMark
from governance.reconcile import Plan, plan, written
from schemas import names
from sharebus.principals import GOVERNANCE_WRITER

TRANSACTIONAL_ID = GOVERNANCE_WRITER
TIMEOUT = 30.0


def new_version() -> int:
    """Governance versions are the apply time in milliseconds: they only grow."""
    return time.time_ns() // 1_000_000


def write(
    records: Sequence[codec.Stored],
    settings: KafkaSettings | None = None,
    source: str = "",
    summary: str = "",
) -> int:
    """Write `records` as one new governance version, atomically; return the version."""
    settings = settings or get_kafka_settings()
    ensure_topics(settings)
    version = new_version()
    producer = Producer(
        {
            **settings.librdkafka(),
            "transactional.id": TRANSACTIONAL_ID,
            "enable.idempotence": True,
            "acks": "all",
            "transaction.timeout.ms": int(TIMEOUT * 1000),
        }
    )
    offsets: dict[str, int] = {}
    failures: list[str] = []

    def report(err: Any, msg: Any) -> None:
        if err is not None:
            failures.append(refusal(err, settings.principal, "write to", msg.topic()) or err.str())
            return
        where = f"{msg.topic()}/{msg.partition()}"
        offsets[where] = max(offsets.get(where, -1), msg.offset())

    try:
        producer.init_transactions(TIMEOUT)
        producer.begin_transaction()
        for record in records:
            producer.produce(
                codec.topic_of(record),
                key=codec.key_of(record).encode(),
                value=codec.encode(record, version),
                on_delivery=report,
            )
            producer.poll(0)
        producer.flush(TIMEOUT)
        if failures or len(producer):
            raise GovernanceError(failures[0] if failures else "not acknowledged in time")
        mark = VersionMark(
            version=version,
            applied_at=datetime.now(UTC),
            source=source or _who(),
            summary=summary,
            offsets=offsets,
        )
        producer.produce(
            names.GOVERNANCE_LOG, key=mark.key.encode(), value=codec.encode(mark, version)
        )
        producer.commit_transaction(TIMEOUT)
    except (KafkaException, GovernanceError) as exc:
        _abort(producer)
        cause = exc.args[0].str() if isinstance(exc, KafkaException) else str(exc)
        # A principal that may not hold the writer's transactional id is refused first.
        cause = refusal(kafka_error(exc), settings.principal, "use", TRANSACTIONAL_ID) or cause
        raise GovernanceError(f"governance not written (nothing of it applies): {cause}") from exc
    return version


def _who() -> str:
    return os.environ.get("USER") or os.environ.get("LOGNAME") or "operator"


def _abort(producer: Producer) -> None:
    # If this fails too, the transaction times out on the broker and is aborted there.
    with contextlib.suppress(KafkaException):
        producer.abort_transaction(10)


def read_current(settings: KafkaSettings | None = None, timeout: float = 30.0) -> Governance:
    """The governance in force now: what the workers read, at its last whole version."""
    from foundation.probe import require
    from streams.governance_feed import GovernanceFeed

    settings = settings or get_kafka_settings()
    require(kafka=True, settings=settings)  # a Kafka that does not answer, said in one line
    missing = check_readable(settings, names.GOVERNANCE_TOPICS)
    if len(missing) == len(names.GOVERNANCE_TOPICS):
        return Governance()  # a new cluster: nothing was ever applied
    if missing:
        raise GovernanceError(
            f"governance topics missing: {', '.join(missing)} (deleted?);"
            " `sharebus topics apply` creates them again"
        )
    feed = GovernanceFeed(settings.librdkafka())
    feed.start()
    try:
        if not feed.wait_ready(timeout):
            raise GovernanceError(f"governance topics not readable within {timeout:.0f}s")
        return feed.current
    finally:
        feed.stop()


def ensure_topics(settings: KafkaSettings) -> None:
    """The governance topics, created when missing: the first apply on a new cluster
    needs no `topics apply` before it."""
    from governance.topics import Topics, system_specs

    wanted = set(names.GOVERNANCE_TOPICS)
    Topics(settings).ensure([s for s in system_specs() if s.name in wanted])


def plan_folder(directory: Path, settings: KafkaSettings | None = None) -> tuple[Plan, Governance]:
    """What applying `directory` would change, against the governance in force."""
    from governance.loader import load_governance

    # The folder first (its problems need no cluster), then the governance in force.
    desired, sources = load_governance(directory)
    in_force = read_current(settings)
    return plan(desired, in_force, datetime.now(UTC), sources), in_force


def apply_folder(directory: Path, settings: KafkaSettings | None = None) -> tuple[Plan, int | None]:
    """Reconcile the governance in force to `directory`: the plan, and the version written
    (None when nothing changes). Refuses, writing nothing, when the plan has problems."""
    result, _ = plan_folder(directory, settings)
    if result.problems:
        count = f"{len(result.problems)} problem{'s' if len(result.problems) > 1 else ''}"
        raise GovernanceError(f"{count}, nothing applied:\n" + "\n".join(result.problems))
    if not result.changes:
        return result, None
    source = f"{_who()}: governance apply {directory}"
    return result, write(written(result.changes), settings, source, result.summary())
