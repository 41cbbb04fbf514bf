"""An agreement that ends, as the banks see it: a grant with `on_end: retract` makes the
bank's handler receive a retraction and a tombstone for every key it still holds under
that agreement; a grant that keeps (the default) sends nothing; a later sweep finds
nothing left to retract."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from consumers.subscriber import Subscriber
from foundation.settings import KafkaSettings
from producers.publisher import Publisher
from schemas import names
from schemas.catalog import load_catalog
from sharebus.governance_log import read_current
from synthetic.generate import records
from tests.integration.bank_flow import enterprises, gather
from tests.integration.conftest import (
    GOVERNANCE,
    Endpoints,
    WorkerProcess,
    applied,
    run_cli,
)
from tests.integration.reading import audit_until, end_offsets, read_to_end
from tests.integration.test_subscriber_retraction import version_in

CATEGORY = "stc.rd-grant"
RETRACTS = "bocom-rd-grant-retract"  # on_end: retract
KEEPS = "ccb-rd-grant-keep"  # on_end left to its default: keep
FIELDS = ["uscc", "enterprise_name", "project_no", "programme", "year", "amount"]


def governance_with(tmp_path: Path, status: str, versions: dict[str, int]) -> Path:
    """The sample governance plus the two agreements on stc.rd-grant, in `status`."""
    folder = tmp_path / status
    shutil.copytree(GOVERNANCE, folder)
    for agreement_id, bank, on_end in ((RETRACTS, "bocom", "retract"), (KEEPS, "ccb", None)):
        grant = {"category": CATEGORY, "fields": FIELDS, "retention_days": 30}
        if on_end:
            grant["on_end"] = on_end
        agreement = {
            "kind": "agreement",
            "id": agreement_id,
            "version": versions[agreement_id],
            "bank": bank,
            "purpose": "technology-lending",
            "status": status,
            "effective_from": "2026-01-01T00:00:00+08:00",
            "effective_until": "2028-01-01T00:00:00+08:00",
            "grants": [grant],
        }
        path = folder / "agreements" / f"{agreement_id}.yaml"
        path.write_text(yaml.safe_dump(agreement))
    return folder


@pytest.mark.usefixtures("sample_afterwards")
def test_an_ended_agreement_retracts_what_the_bank_holds_only_where_it_says_so(
    endpoints: Endpoints, kafka_settings: KafkaSettings, worker: WorkerProcess, unique: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    # A terminated agreement comes back only under a new version: one above any earlier run's.
    current = read_current(kafka_settings).agreements
    versions = {a: current[a].version + 1 if a in current else 1 for a in (RETRACTS, KEEPS)}
    applied(governance_with(tmp_path, "active", versions), kafka_settings, worker)

    # Twelve enterprises: each created and updated; the last two deleted (not held).
    ents = enterprises(unique, 12)
    made = iter(records(load_catalog().get(CATEGORY), ents, 2 * len(ents)))
    latest: dict[str, dict[str, object]] = {}
    with Publisher(agency="stc", settings=kafka_settings) as pub:
        for op in ("c", "u"):
            for e in ents:
                record = {**next(made), "uscc": e.uscc, "enterprise_name": e.name}
                pub.publish(CATEGORY, op, e.uscc, before=latest.get(e.uscc), after=record)
                latest[e.uscc] = record
        for e in ents[-2:]:
            pub.publish(CATEGORY, "d", e.uscc, before=latest[e.uscc])
    held = {e.uscc for e in ents[:-2]}
    mine = {e.uscc for e in ents}

    group = f"bocom.agreement-end-{unique}"
    with Subscriber("bocom", group=group, categories=[CATEGORY], settings=kafka_settings) as sub:
        # Each enterprise created and updated, two deleted: a change each, and a tombstone.
        before = gather(sub, mine, 2 * len(ents) + 2 * 2)
    got = Counter((e.kind.value, e.op) for e in before)
    assert got[("change", "c")] == len(ents), "every enterprise reached bocom"
    assert got[("tombstone", None)] == 2, "the two deleted ones were forgotten"

    ccb_topic = names.bank_topic("ccb", CATEGORY)
    ccb_start = end_offsets(kafka_settings, ccb_topic)
    audit_start = end_offsets(kafka_settings, names.AUDIT)
    version = applied(governance_with(tmp_path, "terminated", versions), kafka_settings, worker)

    with Subscriber("bocom", group=group, categories=[CATEGORY], settings=kafka_settings) as sub:
        erased = gather(sub, mine, 2 * len(held), quiet=10)
    by_key: dict[str, list[str]] = {}
    for e in erased:
        by_key.setdefault(e.key, []).append(e.kind.value)
    assert by_key == {uscc: ["retraction", "tombstone"] for uscc in held}
    retractions = [e for e in erased if e.kind.value == "retraction"]
    assert {e.reason for e in retractions} == {"agreement-ended"}
    assert {e.governance_version for e in retractions} == {version}
    assert {e.agreement for e in retractions} == {RETRACTS}

    retracted = {f"retraction-{RETRACTS}.v{versions[RETRACTS]}-{CATEGORY}-{u}" for u in held}
    audits = audit_until(kafka_settings, audit_start, retracted, banks=1, timeout=60)
    assert {(a["bank"], a["reason"], a["bank_op"]) for a in audits} == {("bocom", "retracted", "d")}
    assert {a["source"] for a in audits} == {f"{names.AGREEMENTS}/{RETRACTS}"}
    assert len(audits) == len(held)

    # ccb's agreement ended too, but keeps: ccb was sent nothing.
    assert [m for m in read_to_end(kafka_settings, ccb_start) if m.key().decode() in mine] == []

    # A later governance version sweeps again and finds nothing left to retract.
    other = enterprises(unique, len(ents) + 1)[-1]
    granted = run_cli(endpoints, "consent", "grant", "--bank", "spdb", "--uscc", other.uscc)
    assert granted.returncode == 0, granted.stderr
    worker.wait_governance(version_in(granted.stdout))
    with Subscriber("bocom", group=group, categories=[CATEGORY], settings=kafka_settings) as sub:
        assert [e for e in sub.events(idle=10) if e.key in mine] == []
