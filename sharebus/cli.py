"""The `sharebus` command: a thin boundary over the packages.

Domain code raises `SharebusError`; here it becomes a one-line cause on stderr and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Annotated

import typer
from rich.console import Console

from consumers.cli import consume
from consumers.docs_cli import docs_app, grants
from producers.cli import generate, publish
from sharebus.audit_verify import audit_app
from sharebus.cli_admin import schemas_app, topics_app
from sharebus.cli_common import err, friendly
from sharebus.dlq_cmd import dlq_app
from sharebus.errors import SharebusError
from sharebus.governance_cmd import consent_app, explain, governance_app

app = typer.Typer(
    help="sharebus: agencies publish enterprise data, workers enforce agreements, banks consume.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
app.command()(publish)
app.command()(generate)
app.command()(consume)
app.command()(grants)
app.add_typer(docs_app, name="docs")
app.add_typer(topics_app, name="topics")
app.add_typer(schemas_app, name="schemas")
app.add_typer(governance_app, name="governance")
app.add_typer(consent_app, name="consent")
app.add_typer(dlq_app, name="dlq")
app.add_typer(audit_app, name="audit")
app.command()(explain)

# ---- the local stack ------------------------------------------------------------------


@app.command()
@friendly
def up() -> None:
    """Start the local Kafka broker and schema registry (downloads the jars once)."""
    from sharebus.settings import get_stack_settings
    from sharebus.stack.local import LocalStack

    stack = LocalStack(get_stack_settings(), report=out.print)
    timings = stack.up()
    for name, seconds in timings.items():
        out.print(f"{name} started in {seconds:.1f}s")
    out.print(f"kafka     {stack.bootstrap}")
    out.print(f"registry  {stack.registry_url}")


@app.command()
@friendly
def down() -> None:
    """Stop the processes `sharebus up` started."""
    from sharebus.settings import get_stack_settings
    from sharebus.stack.local import LocalStack

    stack = LocalStack(get_stack_settings(), report=out.print)
    stopped = stack.down()
    out.print("stopped " + ", ".join(stopped) if stopped else "nothing was running")
    strays = stack.stray_pids()
    if strays:
        raise SharebusError(f"processes of this stack still running: {strays}")


@app.command()
@friendly
def status() -> None:
    """Say what of the local stack is running."""
    from sharebus.settings import get_stack_settings
    from sharebus.stack.local import LocalStack

    stack = LocalStack(get_stack_settings(), report=out.print)
    components = stack.status()
    for c in components:
        out.print(f"{c.name:<9} {'running' if c.running else 'stopped'}  {c.detail}")
    if not any(c.running for c in components):
        out.print("nothing running")


# ---- the bus --------------------------------------------------------------------------


@app.command()
@friendly
def worker(
    app_id: Annotated[
        str | None,
        typer.Option(help="consumer group / faust app id", envvar="SHAREBUS_WORKER_APP_ID"),
    ] = None,
    loglevel: Annotated[str, typer.Option(help="log level")] = "info",
) -> None:
    """Run a fan-out worker (one or more processes; scale = partitions).

    Governance comes from the governance topics (`sharebus governance apply`); the status
    page, with the governance version in force, is at http://127.0.0.1:<web port>/status,
    and /health answers 503 while the worker is not processing. Kafka down at start is
    waited for; SIGTERM or Ctrl-C stops the worker within seconds in any state.
    """
    from sharebus.settings import get_kafka_settings, get_worker_settings
    from sharebus.topics import TopicError, Topics, system_specs
    from streams.app import Worker, create_app

    settings = get_worker_settings()
    if app_id:
        settings = settings.model_copy(update={"app_id": app_id})
    kafka = get_kafka_settings()
    topics = Topics(kafka)
    said = 0.0
    # Until faust takes the signals over: SIGTERM or Ctrl-C while waiting ends quietly.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            try:
                topics.ensure(system_specs())
                break
            except TopicError as exc:
                if time.monotonic() - said > 30:
                    err.print(f"waiting for Kafka: {exc}", highlight=False)
                    said = time.monotonic()
                time.sleep(2)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    faust_app, pipeline = create_app(kafka, settings)
    Worker(faust_app, pipeline, loglevel=loglevel).execute_from_commandline()


@app.command()
@friendly
def backfill(
    agreement: Annotated[str, typer.Option(help="agreement id, e.g. ccb-inclusive-2026")],
) -> None:
    """Send an agreement's bank the current state of its categories, as op=r events.

    Uses the governance in force and the workers' mask keys (SHAREBUS_WORKER_MASK_KEYS);
    running it again adds only what changed since (the subscriber drops the rest)."""
    from sharebus.backfill import backfill as run_backfill
    from sharebus.governance_log import read_current
    from sharebus.settings import get_kafka_settings, get_worker_settings

    kafka = get_kafka_settings()
    tallies = run_backfill(
        agreement, read_current(kafka), kafka, get_worker_settings(), report=out.print
    )
    delivered = sum(t.delivered for t in tallies.values())
    current = sum(t.current for t in tallies.values())
    out.print(f"backfill done: {delivered} of {current} current records delivered")


@app.command()
@friendly
def demo(
    records: Annotated[int, typer.Option(help="records published per category")] = 100,
) -> None:
    """Agencies publish, a worker enforces the agreements, banks receive: with a summary."""
    from sharebus.demo import run_demo

    run_demo(records, out)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
