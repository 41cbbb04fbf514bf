"""A consent revoked while no worker runs: the bank's records of the enterprise are
retracted when a worker starts again, and only once.

In the fault suite, which runs before the integration tier starts its session worker: the
only workers on the stack are this test's (the session's worker would retract at once).
"""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

from consumers.subscriber import Subscriber
from foundation.settings import KafkaSettings
from producers.publisher import Publisher
from schemas.catalog import load_catalog
from synthetic.generate import records
from tests.integration.bank_flow import enterprises, gather
from tests.integration.conftest import (
    Endpoints,
    run_cli,
    spawn_worker,
    stop_worker,
    wait_for,
)
from tests.integration.reading import group_at_end
from tests.integration.test_subscriber_retraction import HELD, version_in


def test_a_consent_revoked_while_no_worker_runs_is_retracted_when_one_starts(
    endpoints: Endpoints, kafka_settings: KafkaSettings, sample_governance: int, tmp_path: Path
) -> None:
    unique = uuid.uuid4().hex[:10]
    group = f"test-down-{unique}"
    group_at_end(kafka_settings, group)  # the workers see only what this test publishes
    (ent,) = enterprises(unique, 1)
    first = spawn_worker(endpoints, tmp_path / "first", group)
    reader = f"spdb.down-{unique}"
    try:
        granted = run_cli(endpoints, "consent", "grant", "--bank", "spdb", "--uscc", ent.uscc)
        assert granted.returncode == 0, granted.stderr
        first.wait_governance(version_in(granted.stdout), timeout=180)
        catalog = load_catalog()
        for category in HELD:
            record = next(records(catalog.get(category), [ent], 1))
            with Publisher(agency=category.split(".")[0], settings=kafka_settings) as pub:
                pub.publish(category, "c", ent.uscc, after=record)
        with Subscriber("spdb", group=reader, categories=HELD, settings=kafka_settings) as sub:
            held = gather(sub, {ent.uscc}, len(HELD))
        assert sorted((e.kind.value, e.op) for e in held) == [("change", "c")] * len(HELD)
    finally:
        first.proc.send_signal(signal.SIGKILL)
        first.proc.wait()

    # No worker runs while the enterprise withdraws its consent.
    revoked = run_cli(endpoints, "consent", "revoke", "--bank", "spdb", "--uscc", ent.uscc)
    assert revoked.returncode == 0, revoked.stderr
    version = version_in(revoked.stdout)

    second = spawn_worker(endpoints, tmp_path / "second", group)
    try:
        second.wait_governance(version, timeout=180)
        with Subscriber("spdb", group=reader, categories=HELD, settings=kafka_settings) as sub:
            erased = gather(sub, {ent.uscc}, 2 * len(HELD))
    finally:
        stop_worker(second)
    for category in HELD:
        here = [e for e in erased if e.category == category]
        assert [e.kind.value for e in here] == ["retraction", "tombstone"], category
        assert here[0].reason == "consent-revoked"
        assert here[0].governance_version == version

    # A worker starting again finds nothing left to retract.
    third = spawn_worker(endpoints, tmp_path / "third", group)
    try:
        third.wait_governance(version, timeout=180)
        # Its partitions assigned (the loop measures their lag, then looks for retractions).
        wait_for(lambda: ((third.status() or {}).get("lag") or {}).get("partitions"), 120)
        with Subscriber("spdb", group=reader, categories=HELD, settings=kafka_settings) as sub:
            assert [e for e in sub.events(idle=15) if e.key == ent.uscc] == []
    finally:
        stop_worker(third)
