"""The worker's Prometheus metrics (`GET /metrics`), read from the loop's own tallies.

The fan-out loop already counts events, decisions and dead letters in plain Counters; a
collector turns them into metrics when scraped, so the hot path pays for nothing it did
not already do (and one more dict increment per event, by source topic). Latency is
measured per batch, from consume to commit, and counted once for each event of the batch:
one bisect per batch, not a histogram update per event. Lag is measured by the loop
every few seconds from its own client (`ConsumerLag`), never by a scrape.

Each app has its own `CollectorRegistry`: tests and several apps in one process never
share (or clash over) the global one.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from confluent_kafka import Consumer, KafkaException, TopicPartition
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from foundation.reading import positions

if TYPE_CHECKING:
    from streams.governance_feed import GovernanceFeed
    from streams.pipeline import Pipeline

PREFIX = "sharebus_worker"
# Seconds from a batch's consume to its commit: a few ms for a small batch, seconds for a
# full one waiting on a slow broker.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
LAG_EVERY = 5.0
CONTENT_TYPE = CONTENT_TYPE_LATEST


class BatchLatency:
    """A histogram observed once per batch, weighted by the batch's event count."""

    def __init__(self, buckets: tuple[float, ...] = BUCKETS) -> None:
        self.buckets = buckets
        self._counts = [0] * (len(buckets) + 1)  # the last one is +Inf
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe(self, seconds: float, events: int) -> None:
        with self._lock:
            self._counts[bisect.bisect_left(self.buckets, seconds)] += events
            self._sum += seconds * events

    def snapshot(self) -> tuple[list[tuple[str, int]], float]:
        """Cumulative (upper bound, count) pairs as Prometheus wants them, and the sum."""
        with self._lock:
            counts, total = list(self._counts), self._sum
        bounds = [*(repr(b) for b in self.buckets), "+Inf"]
        cumulative, running = [], 0
        for bound, count in zip(bounds, counts, strict=True):
            running += count
            cumulative.append((bound, running))
        return cumulative, total


class ConsumerLag:
    """Events behind, per source partition this worker owns: the partition's end minus
    the position of the next event to hand over, both the client's own (watermarks cached
    from its fetches), so no broker is asked. A partition that has handed nothing over
    since it was assigned has no position yet: its committed offset stands in (one
    request for all of them), or its first offset when the group never committed there.

    Measured by the loop every LAG_EVERY seconds rather than from librdkafka's statistics:
    their `consumer_lag` counts from the offset the consumer committed, which this one
    never learns (offsets commit through the producer's transaction), and they would have
    every subscribed topic serialised to JSON and parsed each interval.
    """

    def __init__(self, every: float = LAG_EVERY) -> None:
        self.every = every
        self.partitions: dict[tuple[str, int], int] = {}
        self.measured_at: float | None = None  # wall-clock time of the last measurement
        self._next = 0.0

    @property
    def total(self) -> int:
        return sum(self.partitions.values())

    def measure(self, consumer: Consumer) -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.every
        try:
            self.partitions = _lag(consumer)
            self.measured_at = time.time()
        except (KafkaException, RuntimeError):
            return  # keep the last measurement; its time says how old it is


def _lag(consumer: Consumer) -> dict[tuple[str, int], int]:
    assigned = consumer.assignment()
    if not assigned:
        return {}
    at = positions(consumer, assigned, timeout=1.0)
    lag = {}
    for (topic, partition), offset in at.items():
        low, end = consumer.get_watermark_offsets(TopicPartition(topic, partition), cached=True)
        if end >= 0:
            lag[(topic, partition)] = max(end - max(offset, low), 0)
    return lag


class WorkerCollector(Collector):
    """The pipeline's tallies and its governance feed, as metrics, read when scraped."""

    def __init__(self, pipeline: Pipeline, feed: GovernanceFeed) -> None:
        self.pipeline = pipeline
        self.feed = feed

    def collect(self) -> Iterator[Metric]:
        p = self.pipeline
        # dict() copies in one step under the GIL: the loop's thread goes on counting.
        counters = dict(p.counters)
        by_topic = dict(p.events_by_topic)
        decisions = dict(p.decisions)
        events = CounterMetricFamily(
            f"{PREFIX}_events", "source events decided, by source topic", labels=["topic"]
        )
        for topic, n in sorted(by_topic.items()):
            events.add_metric([topic], n)
        yield events
        decided = CounterMetricFamily(
            f"{PREFIX}_decisions",
            "fan-out decisions (one per event and bank), by bank and reason",
            labels=["bank", "reason"],
        )
        for (bank, reason), n in sorted(decisions.items()):
            decided.add_metric([bank, reason], n)
        yield decided
        for name, key, text in (
            ("dead_letters", "dead_letters", "events sent to sharebus.dlq, with the reason"),
            ("errors", "errors", "events whose processing raised (each is also a dead letter)"),
            ("failed_batches", "failed_batches", "batches aborted and read again"),
            (
                "retractions",
                "retractions",
                "bank records retracted (a revoked consent, an agreement ended with retract)",
            ),
        ):
            yield CounterMetricFamily(f"{PREFIX}_{name}", text, value=counters.get(key, 0))
        buckets, total = p.latency.snapshot()
        yield HistogramMetricFamily(
            f"{PREFIX}_processing_seconds",
            "seconds from consume to commit, of the batch each event was in",
            buckets=buckets,
            sum_value=total,
        )
        lag = GaugeMetricFamily(
            f"{PREFIX}_consumer_lag",
            f"events behind per owned source partition (measured every {p.lag.every:g}s)",
            labels=["topic", "partition"],
        )
        for (topic, partition), n in sorted(p.lag.partitions.items()):
            lag.add_metric([topic, str(partition)], n)
        yield lag
        yield GaugeMetricFamily(
            f"{PREFIX}_governance_version",
            "governance version in force here (every record of it read)",
            value=self.feed.current.version,
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_processing", "1 while the loop is processing, else 0", value=p.healthy
        )


def registry_for(pipeline: Pipeline, feed: GovernanceFeed) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(WorkerCollector(pipeline, feed))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The registry in Prometheus' text format."""
    return generate_latest(registry)
