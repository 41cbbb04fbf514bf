"""What became of each input line of `sharebus publish`: delivered, rejected, or in flight.

Deliveries are acknowledged asynchronously, so a line is settled only when its delivery
report arrives. When publishing has to stop, the ledger says exactly how far it got: how
many lines were confirmed, how many are unknown (sent, with no report: they may have
arrived), the last line confirmed, and the line after which a rerun may resume without
sending anything twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from confluent_kafka import KafkaError

# Delivery errors that concern one record, not the connection: the line is rejected and
# publishing goes on.
PER_RECORD = frozenset({KafkaError.MSG_SIZE_TOO_LARGE, KafkaError.INVALID_RECORD})


class Rejects:
    """The rejects file, opened on the first rejected line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._file: TextIO | None = None

    def add(self, number: int, text: str, reason: str) -> None:
        if self._file is None:
            self._file = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 (closed in close())
        entry = {"line": number, "text": text, "reason": reason}
        self._file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.count += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        elif self.path.exists():
            self.path.unlink()  # an old rejects file of this input would mislead


class Ledger:
    """Lines sent and not yet acknowledged, lines delivered, and the first fatal failure."""

    def __init__(self, rejects: Rejects) -> None:
        self.rejects = rejects
        self.delivered = 0
        self.last_delivered = 0
        self.last_handled = 0
        self.fatal: str | None = None
        # By event id; a list, since a file may give two lines the same id of its own.
        self._in_flight: dict[str, list[tuple[int, str]]] = {}
        self._lost: set[int] = set()

    def handled(self, number: int) -> None:
        """Line `number` was sent or rejected."""
        self.last_handled = number

    def sent(self, event_id: str, number: int, text: str) -> None:
        self._in_flight.setdefault(event_id, []).append((number, text))

    def unsent(self, event_id: str) -> None:
        self._take(event_id, last=True)

    def on_delivery(self, event_id: str, err: KafkaError | None) -> None:
        """The publisher's delivery callback."""
        number, text = self._take(event_id)
        if err is None:
            self.delivered += 1
            self.last_delivered = max(self.last_delivered, number)
        elif err.code() in PER_RECORD:
            self.rejects.add(number, text, f"the broker refused the record: {err.str()}")
        else:
            self._lost.add(number)
            self.fatal = self.fatal or f"delivery failed: {err.str()}"

    @property
    def unconfirmed(self) -> int:
        """Lines sent whose delivery is unknown: no report yet, or a failed one (a time-out
        or a lost connection does not say whether the broker wrote the record)."""
        return sum(len(lines) for lines in self._in_flight.values()) + len(self._lost)

    @property
    def settled_through(self) -> int:
        """The last line L such that every line up to L was delivered or rejected."""
        open_lines = {n for lines in self._in_flight.values() for n, _ in lines} | self._lost
        return min(open_lines) - 1 if open_lines else self.last_handled

    def _take(self, event_id: str, last: bool = False) -> tuple[int, str]:
        lines = self._in_flight.get(event_id)
        if not lines:
            return 0, ""
        taken = lines.pop() if last else lines.pop(0)
        if not lines:
            del self._in_flight[event_id]
        return taken
