"""`sharebus demo` in its short, non-interactive form, twice on the same stack.

What a newcomer relies on: it ends with exit 0 and no traceback; its report's counts are
what the banks' handlers received and what the workers decided; the revocation, the
suspension and the late bank's backfill show; and a second run shows its own events only
(no earlier event is fanned out into a bank topic again).

In the fault tier, which runs before the integration tier starts its session worker: a
second worker group would deliver the demo's events too, by its own (slightly later)
reading of each governance change, so the handlers could count a delivery around the
suspension that the demo's workers denied.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from foundation.settings import KafkaSettings
from governance.topics import Topics
from tests.integration.conftest import Endpoints, run_cli
from tests.integration.reading import ends_of, header, read_since

SHORT = ["--seconds", "20", "--rate", "12", "--enterprises", "200", "--plain"]
# The banks that get neither a backfill nor a retraction in the demo: their topics' new
# records are exactly their handlers' changes.
PLAIN_BANKS = ("ccb", "bocom")


def run_demo(endpoints: Endpoints, out: Path) -> dict[str, Any]:
    done = run_cli(endpoints, "demo", *SHORT, "--out", str(out), CI="true")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Traceback" not in output
    assert "\x1b[" not in done.stdout  # no escape codes off a terminal
    (report,) = out.glob("report-*.json")
    summary: dict[str, Any] = json.loads(report.read_text())
    assert f"report: {report.with_suffix('.html')}" in done.stdout
    return summary


def test_the_demo_reports_what_the_banks_received_and_a_second_run_only_its_own(
    endpoints: Endpoints, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    first = run_demo(endpoints, tmp_path / "first")
    banks = first["banks"]
    assert first["matched"]
    for bank, b in banks.items():
        assert b["handler"]["change"] == b["audit_delivered"], bank
        assert b["handler"]["backfill"] == b["audit_backfilled"], bank
        assert b["other"] == 0, bank
    assert first["published_total"] > 200
    assert first["delivered_total"] == sum(b["handler"]["change"] for b in banks.values())
    assert banks["spdb"]["handler"]["retraction"] > 0
    assert banks["spdb"]["handler"]["tombstone"] >= banks["spdb"]["handler"]["retraction"]
    assert banks["ccb"]["denied"].get("suspended", 0) > 0
    assert banks["bosc"]["handler"]["backfill"] == first["backfill"]["delivered"] > 0
    page = (tmp_path / "first" / f"report-{first['run_id']}.html").read_text()
    assert page.count("<svg") == 2
    assert "<script" not in page and "https://" not in page

    prefixes = tuple(f"bank.{bank}." for bank in PLAIN_BANKS)
    plain = [t for t in Topics(kafka_settings).partitions() if t.startswith(prefixes)]
    starts = ends_of(kafka_settings, plain)
    second = run_demo(endpoints, tmp_path / "second")
    assert second["run_id"] != first["run_id"]
    assert second["matched"]
    arrived = read_since(kafka_settings, starts, lambda _: False, timeout=8)
    # One event may reach both banks: a delivery is a topic and an event id.
    delivered = {(m.topic(), header(m, "ce_id") or "") for m in arrived if m.value() is not None}
    # Every record the bank topics gained is of the second run: nothing old fanned again.
    old = [i for _, i in delivered if not i.startswith(f"{second['run_id']}-")]
    assert old == []
    received = sum(second["banks"][b]["handler"]["change"] for b in PLAIN_BANKS)
    assert len(delivered) == received
