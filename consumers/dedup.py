"""Which bank messages a handler has already seen: the de-duplication rule, as pure code.

A bank topic has its source topic's partition count and key, so within one bank-topic
partition the source positions (`sharebus_source` = `<topic>/<partition>/<offset>`) of
live events come from one source partition and only grow. A worker that restarts before
committing sends some of them again, with the same source positions. The rule, per bank
partition and per source partition:

- a live change (op c, u, d) is handed over when its source offset is above the highest
  one handed over so far (the live watermark), else dropped as a replay;
- a backfill event (op r, header `sharebus_backfill`) is handed over when its source
  offset is above the backfill watermark: a backfill run reads the compacted source in
  offset order, so a second run resends what the first one delivered with the same
  positions and only its newer records pass. Backfill and live positions are kept apart:
  a backfill resends old positions that the live stream never carried to this bank;
- a tombstone or a retraction (header `sharebus_retraction`) is never dropped: erasing
  twice is harmless, keeping what should be erased is not;
- a message without a source position is handed over (nothing to compare it with).

The watermarks travel with the committed offset of the bank partition (its commit
metadata), so a restarted consumer, or another one after a rebalance, keeps dropping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from foundation import headers as h

FORMAT = 1


@dataclass(frozen=True)
class SourcePosition:
    topic: str
    partition: int
    offset: int

    @property
    def stream(self) -> str:
        """The source partition, `<topic>/<partition>`."""
        return f"{self.topic}/{self.partition}"

    @classmethod
    def parse(cls, text: str | None) -> SourcePosition | None:
        """`pub.tax.payment-record/2/1234` -> position; None when absent or malformed."""
        if not text:
            return None
        topic, _, rest = text.rpartition("/")
        topic, _, partition = topic.rpartition("/")
        try:
            return cls(topic, int(partition), int(rest)) if topic else None
        except ValueError:
            return None

    def __str__(self) -> str:
        return h.position(self.topic, self.partition, self.offset)


@dataclass
class Watermarks:
    """What one bank partition has handed over, per source partition: [live, backfill]."""

    seen: dict[str, list[int]] = field(default_factory=dict)

    def admit(
        self,
        position: SourcePosition | None,
        *,
        erasure: bool = False,
        backfill: bool = False,
    ) -> bool:
        """Whether the message goes to the handler; raises the watermark when it does."""
        if erasure or position is None:
            return True
        marks = self.seen.setdefault(position.stream, [-1, -1])
        slot = 1 if backfill else 0
        if position.offset <= marks[slot]:
            return False
        marks[slot] = position.offset
        return True

    def to_metadata(self) -> str:
        """Commit metadata (the broker keeps up to `offset.metadata.max.bytes`, 4096)."""
        return json.dumps({"sharebus": FORMAT, "seen": self.seen}, separators=(",", ":"))

    @classmethod
    def from_metadata(cls, text: str | None) -> Watermarks:
        """Watermarks from commit metadata; empty when there is none or it is not ours."""
        try:
            data = json.loads(text or "")
        except ValueError:
            return cls()
        if not isinstance(data, dict) or data.get("sharebus") != FORMAT:
            return cls()
        seen = data.get("seen")
        if not isinstance(seen, dict):
            return cls()
        return cls(
            {
                str(k): [int(v[0]), int(v[1])]
                for k, v in seen.items()
                if isinstance(v, list) and len(v) == 2
            }
        )
