"""The faust worker: the app that hosts the fan-out loop and serves its state.

The loop itself (`streams.pipeline.Pipeline`) runs on librdkafka's clients in a thread:
faust's aiokafka consumer could not subscribe by pattern, acknowledged events whose
processing had raised, and cost four times a plain loop's CPU per event. Faust keeps
what it does well here: the process, its signals, and the web pages (`/status`,
`/health`, `/metrics`). Governance comes from `GovernanceFeed`, profiles from `ProfileFeed`: every
worker reads both in full.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from datetime import UTC, datetime
from typing import Any

import faust

from foundation.faust_broker import faust_broker
from foundation.probe import Health
from foundation.settings import KafkaSettings, WorkerSettings
from schemas.catalog import load_catalog
from schemas.serde import AvroSerde, registry_client
from streams.fanout import FanOut
from streams.governance_feed import GovernanceFeed
from streams.health import ServiceHealth
from streams.metrics import CONTENT_TYPE, ConsumerLag, exposition, registry_for
from streams.pipeline import Pipeline
from streams.profile_feed import ProfileFeed

log = logging.getLogger("sharebus.worker")


def create_app(kafka: KafkaSettings, worker: WorkerSettings) -> tuple[faust.App, Pipeline]:
    # The faust app's own group is not the fan-out group: faust joins it with its own
    # assignor, which the fan-out consumer's protocol would clash with.
    app = faust.App(
        f"{worker.app_id}-host",
        **faust_broker(kafka),
        datadir=str(worker.data_dir),
        web_enabled=worker.web_port > 0,
        web_port=worker.web_port or 6066,
        web_bind="127.0.0.1",
        topic_replication_factor=1,
        # Faust's own group holds nothing, but a restarted worker waits for it to settle
        # before faust says it has started: keep a dead member's session short.
        broker_session_timeout=6.0,
        broker_heartbeat_interval=2.0,
    )
    serde = AvroSerde(registry_client(kafka.registry()))
    feed = GovernanceFeed(kafka.librdkafka())
    profiles = ProfileFeed(kafka.librdkafka(), serde)
    fanout = FanOut(load_catalog(), serde, worker.mask_key_bytes())
    # Started by `Worker` at once, not by a faust task: faust's tasks wait for its own
    # startup (its group included), and the fan-out need not.
    pipeline = Pipeline(kafka, worker, fanout, feed, profiles)
    metrics = registry_for(pipeline, feed)
    services = ServiceHealth(kafka)

    async def probed() -> list[Health]:
        return await asyncio.get_running_loop().run_in_executor(None, services.check)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def stop_fan_out(app: faust.App, **kwargs: Any) -> None:
        pipeline.stop(timeout=0)

    @app.page("/status")
    async def status(web: Any, request: Any) -> Any:
        return web.json(_status(worker, pipeline, feed, profiles, await probed()))

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        # Not processing: the loop is waiting, or it could not reach Kafka or the registry.
        down = [h.problem for h in await probed() if h.problem]
        body = {"state": pipeline.state, "problem": pipeline.problem or "; ".join(down)}
        return web.json(body, status=200 if pipeline.healthy and not down else 503)

    @app.page("/metrics")
    async def scrape(web: Any, request: Any) -> Any:
        return web.bytes(exposition(metrics), headers={"Content-Type": CONTENT_TYPE})

    return app, pipeline


def _status(
    worker: WorkerSettings,
    pipeline: Pipeline,
    feed: GovernanceFeed,
    profiles: ProfileFeed,
    services: list[Health],
) -> dict[str, Any]:
    gov = feed.current
    mark = feed.mark
    counters = pipeline.counters
    return {
        "app_id": worker.app_id,
        "state": pipeline.state,
        "problem": pipeline.problem,
        "governance_ready": feed.ready.is_set(),
        # The version in force here: every record of it read, none of a later one.
        "governance_version": gov.version,
        "governance_applied_at": mark.applied_at.isoformat() if mark else None,
        "banks": gov.active_banks(),
        "agreements": len(gov.agreements),
        "entrustments": len(gov.entrustments),
        "consents": len(gov.consents),
        "profiles_ready": profiles.ready.is_set(),
        "profiles": len(profiles),
        "events": counters["events"],
        "delivered": counters["delivered"],
        "denied": counters["denied"],
        "dead_letters": counters["dead_letters"],
        "errors": counters["errors"],
        "failed_batches": counters["failed_batches"],
        "decisions": {f"{bank}:{reason}": n for (bank, reason), n in pipeline.decisions.items()},
        "lag": _lag(pipeline.lag),
        **{h.name: {"ok": h.ok, "address": h.address, "problem": h.problem} for h in services},
    }


def _lag(lag: ConsumerLag) -> dict[str, Any]:
    partitions = dict(lag.partitions)
    at = lag.measured_at
    return {
        "total": sum(partitions.values()),
        "measured_at": datetime.fromtimestamp(at, UTC).isoformat() if at else None,
        "partitions": [
            {"topic": t, "partition": p, "lag": n} for (t, p), n in sorted(partitions.items())
        ],
    }


class Worker(faust.Worker):
    """A SIGTERM or SIGINT stops the worker within `grace` seconds, whatever state Kafka
    is in: what was not committed is read again by the next owner (at least once)."""

    grace = 15.0

    def __init__(self, app: faust.App, pipeline: Pipeline, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.pipeline = pipeline
        pipeline.start()

    def _on_sigterm(self) -> None:
        self._bounded()
        super()._on_sigterm()

    def _on_sigint(self) -> None:
        self._bounded()
        super()._on_sigint()

    def _bounded(self) -> None:
        threading.Thread(target=self.pipeline.stop, daemon=True).start()
        timer = threading.Timer(self.grace, os._exit, args=(0,))
        timer.daemon = True
        timer.start()
