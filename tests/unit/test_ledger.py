"""What `sharebus publish` reports when it has to stop: delivered lines, the last of them,
and the line after which a rerun sends nothing twice."""

from __future__ import annotations

import json
from pathlib import Path

from confluent_kafka import KafkaError

from producers.ledger import Ledger, Rejects


def test_a_stop_names_the_lines_settled_and_the_first_still_open(tmp_path: Path) -> None:
    rejects = Rejects(tmp_path / "in.jsonl.rejects.jsonl")
    ledger = Ledger(rejects)
    for n in (1, 2, 3, 4, 5):
        ledger.sent(f"e{n}", n, f"line {n}")
        ledger.handled(n)
    ledger.on_delivery("e1", None)
    ledger.on_delivery("e2", KafkaError(KafkaError.MSG_SIZE_TOO_LARGE))
    ledger.on_delivery("e4", None)
    ledger.on_delivery("e3", KafkaError(KafkaError._MSG_TIMED_OUT))
    rejects.close()

    assert ledger.delivered == 2 and ledger.last_delivered == 4
    assert ledger.fatal is not None and "delivery failed" in ledger.fatal
    # Line 3 was lost and line 5 is still in flight: a rerun resumes after line 2.
    assert ledger.settled_through == 2
    entry = json.loads(rejects.path.read_text())
    assert entry["line"] == 2 and "the broker refused the record" in entry["reason"]


def test_with_nothing_open_every_handled_line_is_settled(tmp_path: Path) -> None:
    rejects = Rejects(tmp_path / "r.jsonl")
    ledger = Ledger(rejects)
    ledger.sent("a", 1, "x")
    ledger.handled(1)
    ledger.handled(2)  # rejected before sending
    ledger.on_delivery("a", None)
    rejects.close()
    assert ledger.settled_through == 2
    assert not rejects.path.exists()


def test_lines_not_confirmed_are_counted_as_unknown(tmp_path: Path) -> None:
    """A stop counts what has no delivery report, and what failed without saying whether
    the broker wrote it: both are unknown, not "not delivered"."""
    ledger = Ledger(Rejects(tmp_path / "r.jsonl"))
    for n in (1, 2, 3, 4):
        ledger.sent(f"e{n}", n, f"line {n}")
    ledger.on_delivery("e1", None)
    ledger.on_delivery("e2", KafkaError(KafkaError._MSG_TIMED_OUT))
    assert (ledger.delivered, ledger.unconfirmed) == (1, 3)


def test_two_lines_with_one_id_of_their_own_are_both_followed(tmp_path: Path) -> None:
    ledger = Ledger(Rejects(tmp_path / "r.jsonl"))
    ledger.sent("same", 1, "a")
    ledger.sent("same", 2, "b")
    ledger.handled(2)
    ledger.on_delivery("same", None)
    assert (ledger.unconfirmed, ledger.settled_through) == (1, 1)
    ledger.on_delivery("same", None)
    assert (ledger.delivered, ledger.last_delivered, ledger.unconfirmed) == (2, 2, 0)
