"""The `sharebus` command: a thin boundary over the packages.

Domain code raises `SharebusError`; here it becomes a one-line cause on stderr and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

# Typer carries its own copy of click; its usage errors are these classes.
from typer._click import exceptions as click

from foundation.errors import SharebusError
from sharebus.audit_verify import audit_app
from sharebus.cli_access import acl_app, client_config, principals_app
from sharebus.cli_admin import schemas_app, topics_app
from sharebus.cli_catalog import catalog_app, parties_cmd
from sharebus.cli_common import fail, friendly
from sharebus.cli_consume import consume
from sharebus.cli_docs import docs_app, grants
from sharebus.cli_ops import audit_query_cmd, kafka, status
from sharebus.cli_publish import generate, publish
from sharebus.dlq_cmd import dlq_app
from sharebus.governance_cmd import consent_app, explain, governance_app

app = typer.Typer(
    help="sharebus: agencies publish enterprise data, workers enforce agreements, banks consume.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=True)
log = logging.getLogger("sharebus.worker")
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
app.add_typer(principals_app, name="principals")
app.add_typer(acl_app, name="acl")
app.command("client-config")(client_config)
app.command()(explain)
app.add_typer(catalog_app, name="catalog")
app.command("parties")(parties_cmd)
app.command()(status)
app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)(kafka)
audit_app.command("query")(audit_query_cmd)


def _version(value: bool) -> None:
    if value:
        print(f"sharebus {version('sharebus')}")
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="print the version and exit"
        ),
    ] = False,
) -> None:
    """sharebus: agencies publish enterprise data, workers enforce agreements, banks consume."""


# ---- the local stack ------------------------------------------------------------------


@app.command()
@friendly
def up() -> None:
    """Start the local Kafka broker and schema registry (downloads the jars once)."""
    from foundation.settings import get_stack_settings
    from sharebus.stack.local import LocalStack

    stack = LocalStack(get_stack_settings(), report=out.print)
    timings = stack.up()
    for name, seconds in timings.items():
        out.print(f"{name} started in {seconds:.1f}s")
    out.print(f"kafka     {stack.bootstrap} (SASL_SSL, SCRAM-SHA-512; CA {stack.certs.ca})")
    out.print(f"registry  {stack.registry_url}")


@app.command()
@friendly
def down() -> None:
    """Stop the processes `sharebus up` started."""
    from foundation.settings import get_stack_settings
    from sharebus.stack.local import LocalStack

    stack = LocalStack(get_stack_settings(), report=out.print)
    stopped = stack.down()
    out.print("stopped " + ", ".join(stopped) if stopped else "nothing was running")
    strays = stack.stray_pids()
    if strays:
        raise SharebusError(f"processes of this stack still running: {strays}")


# ---- the bus --------------------------------------------------------------------------


@app.command()
@friendly
def worker(
    app_id: Annotated[
        str | None,
        typer.Option(help="consumer group / faust app id", envvar="SHAREBUS_WORKER_APP_ID"),
    ] = None,
    log_level: str = "info",
) -> None:
    """Run a fan-out worker (one or more processes; scale = partitions).

    Governance comes from the governance topics (`sharebus governance apply`); the status
    page, with the governance version in force, is at http://127.0.0.1:<web port>/status,
    and /health answers 503 while the worker is not processing. Kafka down at start is
    waited for; SIGTERM or Ctrl-C stops the worker within seconds in any state. When the
    default port is taken (another worker on this host), a free one is chosen.
    """
    from foundation.faust_broker import check_can_run
    from foundation.settings import get_kafka_settings, get_worker_settings
    from governance.topics import TopicError, Topics, system_specs
    from sharebus.governance_log import read_current
    from sharebus.worker_start import QuietWorker, check_hash_keys, with_status_port
    from streams.app import create_app

    settings = with_status_port(get_worker_settings())
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
                    log.warning("waiting for Kafka: %s", exc)
                    said = time.monotonic()
                time.sleep(2)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    # A refusal is not waited out: it stops here, in one line (faust would crash later).
    check_can_run(kafka, settings.app_id)
    check_hash_keys(read_current(kafka), settings.mask_key_bytes())
    if settings.web_port:
        log.info("status page: http://127.0.0.1:%s/status (metrics at /metrics)", settings.web_port)
    faust_app, pipeline = create_app(kafka, settings)
    QuietWorker(faust_app, pipeline, loglevel=log_level).execute_from_commandline()


@app.command()
@friendly
def backfill(
    agreement: Annotated[str, typer.Option(help="agreement id, e.g. ccb-inclusive-2026")],
) -> None:
    """Send an agreement's bank the current state of its categories, as op=r events.

    Uses the governance in force and the workers' mask keys (SHAREBUS_WORKER_MASK_KEYS);
    running it again adds only what changed since (the subscriber drops the rest)."""
    from foundation.settings import get_kafka_settings, get_worker_settings
    from sharebus.backfill import backfill as run_backfill
    from sharebus.governance_log import read_current

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
    seconds: Annotated[float, typer.Option(min=5, help="how long the agencies publish")] = 60,
    rate: Annotated[float, typer.Option(min=1, help="events a second, all agencies together")] = 40,
    enterprises: Annotated[
        int, typer.Option(min=10, max=1000, help="enterprises the records are about")
    ] = 1000,
    workers: Annotated[int, typer.Option(min=1, max=4, help="worker processes")] = 1,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="report folder (default .stack/demo)")
    ] = None,
    plain: Annotated[
        bool,
        typer.Option(help="progress lines instead of the live view (the default off a terminal)"),
    ] = False,
) -> None:
    """The programme for a minute: agencies publish, workers enforce, banks consume;
    a consent revoked, an agreement suspended and reinstated, a late bank backfilled.
    Ends with a report (terminal, HTML and JSON) and stops what it started."""
    import os

    from foundation.probe import require
    from sharebus.demo import DemoOptions, run_demo

    require(kafka=True, registry=True)
    live = out.is_terminal and not plain and os.environ.get("CI", "").lower() not in ("1", "true")
    options = DemoOptions(seconds, rate, enterprises, workers, live=live)
    if out_dir is not None:
        options = dataclasses.replace(options, out=out_dir)
    run_demo(options, out)


def main() -> None:
    """Run the command; a usage error is one line and exit code 2, like kubectl and gh."""
    try:
        code = app(standalone_mode=False)
    except click.NoArgsIsHelpError as exc:
        if exc.ctx is not None:
            print(exc.ctx.get_help())
        sys.exit(2)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "sharebus"
        fail(f"{exc.format_message()} (see '{where} --help')")
        sys.exit(2)
    except click.ClickException as exc:
        fail(exc.format_message())
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        fail("interrupted")
        sys.exit(130)
    except Exception as exc:
        # A failure nobody foresaw is still one line; the traceback is there for debugging.
        logging.getLogger("sharebus").debug("unexpected failure", exc_info=True)
        fail(f"unexpected {type(exc).__name__}: {str(exc)[:500]} (--log-level debug shows where)")
        sys.exit(1)
    if code == 130:  # typer's own answer to a Ctrl-C it caught: say it, as above
        fail("interrupted")
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
