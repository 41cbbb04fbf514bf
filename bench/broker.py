"""The broker's ceiling: Kafka's own `ProducerPerformance` and `ConsumerPerformance`.

Run from the `kafka-tools` jar the local stack downloaded (`sharebus kafka <tool>`), on a
scratch topic of the source topics' partitions, with records the size of a source event
and the producer settings the worker uses (acks=all, lz4, idempotent). The lower of the
two rates is `broker_records_per_s`: what no client of this broker can beat.
"""

from __future__ import annotations

import itertools
import re
import uuid

from foundation.settings import KafkaSettings, StackSettings
from governance.topics import Topics, TopicSpec
from sharebus.kafka_tools import output

TOPIC = "bench.broker"
RECORD_BYTES = 400

_PRODUCED = re.compile(r"(\d+) records sent, ([\d.]+) records/sec")


def produced_per_s(text: str) -> float:
    """The overall records/s of ProducerPerformance's last summary line."""
    found = _PRODUCED.findall(text)
    if not found:
        raise ValueError(f"no summary in ProducerPerformance's output: {text[-300:]!r}")
    return float(found[-1][1])


def consumed_per_s(text: str) -> float:
    """The `nMsg.sec` column of ConsumerPerformance's summary (a CSV line after its header)."""
    lines = [line for line in text.splitlines() if line.strip()]
    for header, row in itertools.pairwise(lines):
        names = [c.strip() for c in header.split(",")]
        if "nMsg.sec" in names:
            return float(row.split(",")[names.index("nMsg.sec")])
    raise ValueError(f"no summary in ConsumerPerformance's output: {text[-300:]!r}")


def broker_ceiling(settings: KafkaSettings, records: int) -> tuple[float, float]:
    """(records/s produced, records/s consumed) by Kafka's own tools."""
    stack = StackSettings()
    Topics(settings).ensure([TopicSpec(TOPIC, 3)])
    props = [
        f"bootstrap.servers={settings.bootstrap}",
        "acks=all",
        "compression.type=lz4",
        "linger.ms=5",
        "enable.idempotence=true",
    ]
    produced = output(
        "kafka-producer-perf-test",
        [
            "--topic", TOPIC,
            "--num-records", str(records),
            "--record-size", str(RECORD_BYTES),
            "--throughput", "-1",
            "--producer-props", *props,
        ],
        settings,
        stack,
    )  # fmt: skip
    consumed = output(
        "kafka-consumer-perf-test",
        [
            "--topic", TOPIC,
            "--messages", str(records),
            "--group", f"bench-broker-{uuid.uuid4().hex[:8]}",
            "--timeout", "60000",
        ],
        settings,
        stack,
    )  # fmt: skip
    return produced_per_s(produced), consumed_per_s(consumed)
