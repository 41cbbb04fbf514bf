"""The subscriber SDK on the real stack: each event once, in per-enterprise order, across
a killed consumer and a worker that sends records again."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from consumers.events import BankEvent
from consumers.subscriber import Subscriber
from foundation.settings import PROJECT_ROOT, KafkaSettings
from producers.publisher import Publisher
from schemas.catalog import load_catalog
from synthetic.generate import Enterprise, records
from tests.integration.bank_flow import (
    BANK,
    CATEGORY,
    EXPECTED,
    TOPIC,
    assert_once_in_order,
    enterprises,
    gather,
    publish_histories,
    read_jsonl,
)
from tests.integration.conftest import (
    Endpoints,
    WorkerProcess,
    spawn_worker,
    stop_worker,
    wait_for,
)
from tests.integration.reading import end_offsets, read_since


def _handler_process(endpoints: Endpoints, group: str, keys: Path, out: Path, hang_at: int):  # type: ignore[no-untyped-def]
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.handler_process", group, str(keys), str(out),
         str(hang_at)],
        env=endpoints.env(),
        cwd=PROJECT_ROOT,
    )  # fmt: skip


def test_a_killed_consumer_hands_every_event_once_in_order(
    endpoints: Endpoints, kafka_settings: KafkaSettings, worker: WorkerProcess, unique: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    ents = enterprises(unique, 10)
    keys = tmp_path / "keys"
    keys.write_text("\n".join(e.uscc for e in ents))
    out = tmp_path / "handled.jsonl"
    group = f"{BANK}.kill-{unique}"
    publish_histories(kafka_settings, ents)
    total = len(EXPECTED) * len(ents)

    # Killed twice inside its handler, mid-stream: the event being handled was not
    # committed and must come again; the ones before it must not.
    for hang_at in (15, 20):
        marker = Path(f"{out}.hanging")
        marker.unlink(missing_ok=True)
        proc = _handler_process(endpoints, group, keys, out, hang_at)
        try:
            wait_for(marker.exists, 120, what=f"the handler to reach event {hang_at}")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert len(read_jsonl(out)) == 14 + 19

    proc = _handler_process(endpoints, group, keys, out, 0)
    try:
        wait_for(lambda: len(read_jsonl(out)) >= total, 120, what=f"{total} handled events")
        time.sleep(3)  # a duplicate would arrive now
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert_once_in_order(read_jsonl(out), ents)


def _as_rows(events: list[BankEvent]) -> list[dict[str, Any]]:
    return [e.as_json() for e in events]


def _copies(settings: KafkaSettings, since: list[Any], keys: set[str], want: int) -> list[Any]:
    """The raw bank messages of `keys` from `since` on (until `want` of them)."""

    def mine(messages: list[Any]) -> list[Any]:
        return [m for m in messages if m.key().decode() in keys]

    return mine(read_since(settings, since, lambda m: len(mine(m)) >= want, timeout=90))


def test_records_sent_again_with_the_same_source_position_are_dropped(
    kafka_settings: KafkaSettings, worker: WorkerProcess, unique: str
) -> None:
    ents = enterprises(unique, 4)
    keys = {e.uscc for e in ents}
    total = len(EXPECTED) * len(ents)
    group = f"{BANK}.replay-{unique}"
    start = end_offsets(kafka_settings, TOPIC)
    publish_histories(kafka_settings, ents)
    with Subscriber(BANK, group=group, categories=[CATEGORY], settings=kafka_settings) as sub:
        first = gather(sub, keys, total)
    assert_once_in_order(_as_rows(first), ents)

    # What a worker restarted before its commit does: the same records, the same
    # `sharebus_source`, again on the same partitions.
    originals = _copies(kafka_settings, start, keys, total)
    producer = Producer(kafka_settings.librdkafka())

    def replay() -> None:
        for m in originals:
            producer.produce(
                m.topic(), key=m.key(), value=m.value(), headers=m.headers(),
                partition=m.partition(),
            )  # fmt: skip
        assert producer.flush(30) == 0

    replay()
    # A restarted subscriber of the group knows the positions from its commits.
    with Subscriber(BANK, group=group, categories=[CATEGORY], settings=kafka_settings) as sub:
        again = gather(sub, keys, len(ents))
        assert [e.kind.value for e in again] == ["tombstone"] * len(ents), (
            "replayed changes must be dropped; tombstones are never dropped"
        )
        assert sub.dropped >= total - len(ents)
        # A running one knows them too, and still takes what is new.
        replay()
        live = gather(sub, keys, len(ents))
        assert [e.kind.value for e in live] == ["tombstone"] * len(ents)
        publish_one_more(kafka_settings, ents[0])
        fresh = gather(sub, keys, 1)
    assert [(e.key, e.op) for e in fresh] == [(ents[0].uscc, "c")]


def publish_one_more(settings: KafkaSettings, ent: Enterprise) -> None:
    record = next(records(load_catalog().get(CATEGORY), [ent], 1, seed=99))
    with Publisher(agency="court", settings=settings) as pub:
        pub.publish(CATEGORY, "c", ent.uscc, after=record)


def test_a_real_worker_replay_does_not_reach_the_handler_twice(
    endpoints: Endpoints, kafka_settings: KafkaSettings, worker: WorkerProcess, unique: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    ents = enterprises(unique, 3)
    keys = {e.uscc for e in ents}
    total = len(EXPECTED) * len(ents)
    group = f"{BANK}.worker-replay-{unique}"
    publish_histories(kafka_settings, ents)
    with Subscriber(BANK, group=group, categories=[CATEGORY], settings=kafka_settings) as sub:
        first = gather(sub, keys, total)
    assert_once_in_order(_as_rows(first), ents)

    # A worker of a new group reads the source topic from its beginning and sends every
    # decision again: the worst replay a restart can cause.
    since = end_offsets(kafka_settings, TOPIC)
    second = spawn_worker(
        endpoints, tmp_path / "worker2", f"test-replayer-{uuid.uuid4().hex[:8]}",
        source_pattern=r"pub\.court\.judgment",
    )  # fmt: skip
    try:
        sent_again = _copies(kafka_settings, since, keys, total)
    finally:
        stop_worker(second)
    assert len(sent_again) >= total, "the second worker did not replay the records"
    with Subscriber(BANK, group=group, categories=[CATEGORY], settings=kafka_settings) as sub:
        again = gather(sub, keys, len(ents))
    assert [e for e in again if e.kind.value == "change"] == []
