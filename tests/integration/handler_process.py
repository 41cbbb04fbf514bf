"""A bank's handler in a process of its own, for the tests that kill it.

    python -m tests.integration.handler_process GROUP KEYS_FILE OUT HANG_AT

Hands every event of bosc's court.judgment to a handler that appends the events of the
enterprises in KEYS_FILE to OUT (written and synced before it returns). With HANG_AT > 0
the handler stops, inside itself, at that many events of those enterprises in this run:
it writes OUT.hanging and sleeps until it is killed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from consumers.events import BankEvent
from consumers.subscriber import Subscriber
from tests.integration.bank_flow import BANK, CATEGORY


def main() -> None:
    group, keys_file, out, hang_at = sys.argv[1:5]
    keys = set(Path(keys_file).read_text().split())
    hang = int(hang_at)
    seen = 0

    def handler(event: BankEvent) -> None:
        nonlocal seen
        if event.key not in keys:
            return
        seen += 1
        if seen == hang:
            Path(out + ".hanging").write_text(str(event.offset))
            time.sleep(3600)
        with open(out, "a", encoding="utf-8") as f:
            f.write(json.dumps(event.as_json(), ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())

    with Subscriber(BANK, group=group, categories=[CATEGORY]) as sub:
        sub.run(handler)


if __name__ == "__main__":
    main()
