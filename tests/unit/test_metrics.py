"""The worker's metrics: the loop's tallies as Prometheus sees them, a latency histogram
weighted by events, and a registry per app."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from streams.metrics import BatchLatency, ConsumerLag, exposition, registry_for


def _pipeline() -> Any:
    return SimpleNamespace(
        counters=Counter({"events": 3, "dead_letters": 1, "failed_batches": 2}),
        events_by_topic=Counter({"pub.tax.payment-record": 2, "pub.market.penalty": 1}),
        decisions=Counter({("ccb", "delivered"): 2, ("ccb", "no-consent"): 1}),
        latency=BatchLatency(),
        lag=ConsumerLag(),
        healthy=True,
    )


def _scrape(pipeline: Any, version: int = 7) -> dict[str, float]:
    feed: Any = SimpleNamespace(current=SimpleNamespace(version=version))
    text = exposition(registry_for(pipeline, feed)).decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            samples[f"{s.name}{{{labels}}}"] = s.value
    return samples


def test_the_loops_counters_are_the_metrics() -> None:
    pipeline = _pipeline()
    pipeline.lag.partitions = {("pub.tax.payment-record", 1): 5}
    got = _scrape(pipeline)
    assert got["sharebus_worker_events_total{topic=pub.tax.payment-record}"] == 2
    assert got["sharebus_worker_decisions_total{bank=ccb,reason=no-consent}"] == 1
    assert got["sharebus_worker_dead_letters_total{}"] == 1
    assert got["sharebus_worker_failed_batches_total{}"] == 2
    assert got["sharebus_worker_errors_total{}"] == 0
    assert got["sharebus_worker_consumer_lag{partition=1,topic=pub.tax.payment-record}"] == 5
    assert got["sharebus_worker_governance_version{}"] == 7
    assert got["sharebus_worker_processing{}"] == 1
    pipeline.counters["dead_letters"] += 1
    assert _scrape(pipeline)["sharebus_worker_dead_letters_total{}"] == 2, "read when scraped"


def test_a_batch_is_observed_once_and_counted_for_each_of_its_events() -> None:
    pipeline = _pipeline()
    pipeline.latency.observe(0.02, 1000)
    pipeline.latency.observe(3.0, 10)
    got = _scrape(pipeline)
    assert got["sharebus_worker_processing_seconds_bucket{le=0.01}"] == 0
    assert got["sharebus_worker_processing_seconds_bucket{le=0.025}"] == 1000
    assert got["sharebus_worker_processing_seconds_bucket{le=5.0}"] == 1010
    assert got["sharebus_worker_processing_seconds_bucket{le=+Inf}"] == 1010
    assert got["sharebus_worker_processing_seconds_count{}"] == 1010
    assert abs(got["sharebus_worker_processing_seconds_sum{}"] - 50.0) < 1e-9


def test_two_apps_in_one_process_keep_their_own_registries() -> None:
    first, second = _pipeline(), _pipeline()
    second.counters["dead_letters"] = 9
    assert _scrape(first)["sharebus_worker_dead_letters_total{}"] == 1
    assert _scrape(second)["sharebus_worker_dead_letters_total{}"] == 9


class _Consumer:
    """What ConsumerLag asks of a confluent-kafka Consumer, answered locally."""

    def __init__(self) -> None:
        self.committed_asked = 0

    def assignment(self) -> list[Any]:
        return [SimpleNamespace(topic="pub.a", partition=p) for p in (0, 1)]

    def position(self, tps: list[Any]) -> list[Any]:
        # Partition 1 has handed nothing over since it was assigned: no position.
        return [
            SimpleNamespace(topic="pub.a", partition=0, offset=90),
            SimpleNamespace(topic="pub.a", partition=1, offset=-1001),
        ]

    def committed(self, tps: list[Any], timeout: float) -> list[Any]:
        self.committed_asked += 1
        return [SimpleNamespace(topic=tp.topic, partition=tp.partition, offset=40) for tp in tps]

    def get_watermark_offsets(self, tp: Any, cached: bool) -> tuple[int, int]:
        assert cached, "never a request to the broker"
        return (0, 100 if tp.partition == 0 else 40)


def test_lag_is_the_end_minus_the_position_measured_at_most_every_interval() -> None:
    lag, consumer = ConsumerLag(every=60), _Consumer()
    lag.measure(consumer)  # type: ignore[arg-type]
    assert lag.partitions == {("pub.a", 0): 10, ("pub.a", 1): 0} and lag.total == 10
    lag.measure(consumer)  # type: ignore[arg-type]
    assert consumer.committed_asked == 1, "once per interval, however often the loop turns"
