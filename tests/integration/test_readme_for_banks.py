"""The README's "For banks" snippet runs as pasted, over deletes and tombstones."""

from __future__ import annotations

import re
import subprocess
import sys

from foundation.settings import PROJECT_ROOT, KafkaSettings
from tests.integration.bank_flow import EXPECTED, TOPIC, enterprises, publish_histories
from tests.integration.conftest import Endpoints, WorkerProcess
from tests.integration.reading import end_offsets, read_since


def snippet() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme[readme.index("## For banks") :]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "no Python snippet in the README's For banks section"
    return match.group(1)


def test_the_readme_snippet_runs_over_deletes_and_tombstones(
    endpoints: Endpoints, kafka_settings: KafkaSettings, worker: WorkerProcess, unique: str
) -> None:
    (ent,) = enterprises(unique, 1)
    since = end_offsets(kafka_settings, TOPIC)
    publish_histories(kafka_settings, [ent])

    def delivered(messages: list) -> bool:  # type: ignore[type-arg]
        return sum(m.key().decode() == ent.uscc for m in messages) >= len(EXPECTED)

    assert delivered(read_since(kafka_settings, since, delivered, timeout=120))
    result = subprocess.run(
        [sys.executable, "-c", snippet()],
        env=endpoints.env(), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    mine = [line.split()[0] for line in result.stdout.splitlines() if ent.uscc in line]
    assert mine == ["c", "u", "u", "deleted", "forget", "c", "u"]
