"""Records per batch and compression on the output topics, as the broker stored them.

Read from the local stack's log segments with Kafka's own `DumpLogSegments`, between the
offsets each output partition had before a contender ran and after it: what a contender
wrote, batch by batch, whatever client it used. Transaction markers (control batches) are
counted apart: a transaction per small batch of events writes one per partition it
touched.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import TopicPartition

from foundation.reading import high_watermarks
from foundation.settings import KafkaSettings, StackSettings
from schemas import names

HEAP = "512m"
# One line per batch (DumpLogSegments without --deep-iteration).
_BATCH = re.compile(
    r"baseOffset: (?P<base>\d+) lastOffset: (?P<last>\d+) count: (?P<count>\d+)"
    r".*?isControl: (?P<control>\w+)"
    r".*?compresscodec: (?P<codec>\w+)"
)

Offsets = dict[tuple[str, int], int]


@dataclass
class Batches:
    """What the broker stored for a set of partitions between two points."""

    records: int = 0
    batches: int = 0
    markers: int = 0
    codecs: Counter[str] = field(default_factory=Counter)  # records by compression

    @property
    def per_batch(self) -> float:
        return self.records / self.batches if self.batches else 0.0

    @property
    def compression(self) -> str:
        return ", ".join(codec.lower() for codec, _ in self.codecs.most_common()) or "-"

    def add(self, line: str) -> None:
        match = _BATCH.search(line)
        if match is None:
            return
        if match["control"] == "true":
            self.markers += 1
            return
        count = int(match["count"])
        self.records += count
        self.batches += 1
        self.codecs[match["codec"]] += count


def ends(settings: KafkaSettings, partitions: dict[str, int]) -> Offsets:
    """Each partition of the topics (name -> partitions) at its end now."""
    asked = [TopicPartition(t, p) for t, n in partitions.items() for p in range(n)]
    at = high_watermarks(settings.librdkafka(), asked)
    return {(tp.topic, tp.partition): tp.offset for tp in at}


def stored(
    before: Offsets, after: Offsets, stack: StackSettings | None = None
) -> dict[str, Batches]:
    """The batches written between `before` and `after`, by kind of topic (`bank`,
    `audit`); empty when the stack's log segments are not on this machine."""
    stack = stack or StackSettings()
    grown = {tp: (before.get(tp, 0), end) for tp, end in after.items() if end > before.get(tp, 0)}
    files: dict[Path, tuple[str, int, int]] = {}
    for (topic, partition), (start, end) in grown.items():
        for data in sorted((stack.dir / "data").glob("kafka*")):
            folder = data / f"{topic}-{partition}"
            for segment in sorted(folder.glob("*.log")):
                files[segment] = (_kind(topic), start, end)
    out: dict[str, Batches] = {}
    if not files:
        return out
    for segment, text in _dump(list(files), stack).items():
        kind, start, end = files[segment]
        tally = out.setdefault(kind, Batches())
        for line in text:
            match = _BATCH.search(line)
            if match and start <= int(match["base"]) < end:
                tally.add(line)
    return out


def _kind(topic: str) -> str:
    if topic == names.AUDIT:
        return "audit"
    return "bank" if topic.startswith(names.BANK_PREFIX) else topic


def _dump(segments: list[Path], stack: StackSettings) -> dict[Path, list[str]]:
    """DumpLogSegments over the segments, in a few JVMs; its lines per segment."""
    java = shutil.which(stack.java)
    libs = stack.cache.resolve() / f"kafka-{stack.kafka_version}" / "libs"
    if java is None or not libs.is_dir():
        return {}
    lines: dict[Path, list[str]] = {}
    for chunk in range(0, len(segments), 400):
        part = segments[chunk : chunk + 400]
        done = subprocess.run(
            [
                java, f"-Xmx{HEAP}", "-cp", f"{libs}/*", "kafka.tools.DumpLogSegments",
                "--files", ",".join(str(s) for s in part),
            ],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        current: Path | None = None
        for line in done.stdout.splitlines():
            if line.startswith("Dumping "):
                current = Path(line.removeprefix("Dumping ").strip())
                lines.setdefault(current, [])
            elif current is not None and line.startswith("baseOffset:"):
                lines[current].append(line)
    return lines
