"""`sharebus backfill`: a bank onboarded after the events gets exactly the current state its
agreement allows, as the decision function says, and a second run adds nothing."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from consumers.subscriber import Subscriber
from foundation.settings import PROJECT_ROOT, KafkaSettings
from governance.cel import profile_from_registration
from governance.decision import Event, decide
from governance.loader import governance_from_dir
from producers.publisher import Publisher
from schemas.catalog import load_catalog
from sharebus.governance_log import read_current
from synthetic.generate import records
from tests.integration.bank_flow import enterprises, gather
from tests.integration.conftest import (
    GOVERNANCE,
    TEST_MASK_KEYS,
    Endpoints,
    WorkerProcess,
    applied,
)
from tests.integration.reading import audit_until, end_offsets, read_since

AGREEMENT = "bocom-tech-sme-backfill"
CATEGORY = "stc.tech-sme"
TOPIC = f"bank.bocom.{CATEGORY}"


def governance_with(tmp_path: Path, status: str, version: int) -> Path:
    """The sample governance plus a bocom agreement on stc.tech-sme, in `status`."""
    folder = tmp_path / status
    shutil.copytree(GOVERNANCE, folder)
    agreement = {
        "kind": "agreement",
        "id": AGREEMENT,
        "version": version,
        "bank": "bocom",
        "purpose": "technology-lending",
        "status": status,
        "effective_from": "2026-01-01T00:00:00+08:00",
        "effective_until": "2028-01-01T00:00:00+08:00",
        "grants": [
            {
                "category": CATEGORY,
                "fields": ["uscc", "enterprise_name", "year", "registration_no", "rd_staff_count"],
                "masks": {"registration_no": {"kind": "partial", "keep_first": 4}},
                # A filter of the samples (the oracle test knows those), on the profile.
                "filter": "enterprise.scale in ['MICRO', 'SMALL']",
                "retention_days": 30,
            }
        ],
    }
    (folder / "agreements" / f"{AGREEMENT}.yaml").write_text(yaml.safe_dump(agreement))
    return folder


@pytest.mark.usefixtures("sample_afterwards")
def test_a_late_bank_gets_exactly_the_current_state_once(
    endpoints: Endpoints, kafka_settings: KafkaSettings, worker: WorkerProcess, unique: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    # An apply needs a new version for new terms; an earlier run may have left one.
    earlier = read_current(kafka_settings).agreements.get(AGREEMENT)
    version = earlier.version + 1 if earlier else 1
    applied(governance_with(tmp_path, "suspended", version), kafka_settings, worker)

    # Before the bank is onboarded: 400 enterprises, each created and updated twice; one
    # in five deleted at the end. Over 1,200 events, none delivered to bocom.
    ents = enterprises(unique, 400)
    rng = random.Random(unique)
    registration = load_catalog().get("market.registration")
    profiles = {}
    with Publisher(agency="market", settings=kafka_settings) as pub:
        for rec in records(registration, ents, len(ents)):
            pub.publish(registration.id, "c", rec["uscc"], after=rec)
            profiles[rec["uscc"]] = profile_from_registration(rec)
    made = iter(records(load_catalog().get(CATEGORY), ents, 3 * len(ents), seed=3))
    latest: dict[str, dict[str, Any] | None] = {}
    latest_id: dict[str, str] = {}
    ids: set[str] = set()
    audit_start = end_offsets(kafka_settings, "sharebus.audit")
    with Publisher(agency="stc", settings=kafka_settings) as pub:
        for step in range(3):
            for e in ents:
                record = {**next(made), "uscc": e.uscc, "enterprise_name": e.name}
                op = "c" if step == 0 else "u"
                event_id = pub.publish(
                    CATEGORY, op, e.uscc, before=latest.get(e.uscc), after=record
                )
                ids.add(event_id)
                latest[e.uscc], latest_id[e.uscc] = record, event_id
        for e in rng.sample(ents, len(ents) // 5):
            ids.add(pub.publish(CATEGORY, "d", e.uscc, before=latest[e.uscc]))
            latest[e.uscc] = None
    audits = audit_until(kafka_settings, audit_start, ids, timeout=240)
    assert not [a for a in audits if a["bank"] == "bocom" and a["decision"] == "delivered"]

    folder = governance_with(tmp_path, "active", version + 1)
    applied(folder, kafka_settings, worker)
    active = governance_from_dir(folder)
    now = datetime.now(UTC)
    expected = {}
    for uscc, record in latest.items():
        if record is None:
            continue
        event = Event(CATEGORY, "r", uscc, None, record)
        d = decide(event, "bocom", active, profiles[uscc], now, {
            bank: key.encode() for bank, key in TEST_MASK_KEYS.items()
        })  # fmt: skip
        if d.delivered:
            expected[uscc] = d.after
    assert 0 < len(expected) < len(ents), "the filter and the deletes must both matter"

    audit_start = end_offsets(kafka_settings, "sharebus.audit")
    first = backfill(endpoints)
    assert first.returncode == 0, first.stderr
    current = sum(r is not None for r in latest.values())
    assert f"{CATEGORY}: " in first.stdout and "delivered" in first.stdout
    backfilled = {latest_id[u] for u, r in latest.items() if r is not None}
    audits = audit_until(kafka_settings, audit_start, backfilled, banks=1, timeout=60)
    assert len(audits) == current, "one audit record per current record"
    assert {(a["bank"], a["op"]) for a in audits} == {("bocom", "r")}
    assert all(a["detail"].startswith(f"backfill {AGREEMENT}.") for a in audits)
    assert sum(a["decision"] == "delivered" for a in audits) == len(expected)

    mine = set(latest)
    group = f"bocom.backfill-{unique}"
    with Subscriber("bocom", group=group, categories=[CATEGORY], settings=kafka_settings) as sub:
        got = gather(sub, mine, len(expected))
    assert {(e.kind.value, e.op) for e in got} == {("change", "r")}
    assert all(e.backfill and e.backfill.startswith(AGREEMENT) for e in got)
    assert {e.key: e.after for e in got} == expected
    assert len(got) == len(expected), "each enterprise once"

    since = end_offsets(kafka_settings, TOPIC)
    second = backfill(endpoints)
    assert second.returncode == 0, second.stderr
    sent = read_since(kafka_settings, since, lambda m: _count(m, mine) >= len(expected), 60)
    assert _count(sent, mine) == len(expected), "the second run sends the same again"
    with Subscriber("bocom", group=group, categories=[CATEGORY], settings=kafka_settings) as sub:
        again = gather(sub, mine, 1, idle=15)
    assert again == [], "a second backfill must not double what the handler sees"


def backfill(endpoints: Endpoints) -> subprocess.CompletedProcess[str]:
    """`sharebus backfill` with the workers' mask keys, as an operator runs it."""
    env = {**endpoints.env(), "SHAREBUS_WORKER_MASK_KEYS": json.dumps(TEST_MASK_KEYS)}
    return subprocess.run(
        [sys.executable, "-m", "sharebus.cli", "backfill", "--agreement", AGREEMENT],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def _count(messages: list[Any], keys: set[str]) -> int:
    return sum(1 for m in messages if m.key().decode() in keys and m.value() is not None)
