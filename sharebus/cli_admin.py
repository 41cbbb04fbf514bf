"""`sharebus topics ...` and `sharebus schemas ...`: provisioning the cluster and the registry.

Both read the catalog shipped with the package; topics also read the governance in force
on the cluster (or a folder, when named), since every granted category gets a bank topic.
A prune never deletes a topic that an agreement in force grants.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from foundation.errors import SharebusError, UsageError
from foundation.probe import require
from sharebus.cli_common import friendly

if TYPE_CHECKING:
    from governance.models import Governance as GovernanceState
    from governance.topics import Plan, Topics

topics_app = typer.Typer(
    help="Topics as code: the catalog's and the agreements' topics on the cluster.",
    no_args_is_help=True,
)
schemas_app = typer.Typer(
    help="The catalog's envelopes in the schema registry (BACKWARD compatible subjects).",
    no_args_is_help=True,
)
out = Console()
err = Console(stderr=True)

Governance = Annotated[
    Path | None,
    typer.Option(
        "--governance",
        help="plan from this folder of governance YAML instead of the governance in force",
    ),
]
Partitions = Annotated[int, typer.Option(min=1, help="partitions of source and bank topics")]


def say(line: str) -> None:
    # Plain lines, never wrapped: topic names are long and output is grepped.
    out.print(line, markup=False, highlight=False, soft_wrap=True)


def _plan(
    governance: Path | None, partitions: int
) -> tuple[Plan, Topics, list[str], GovernanceState]:
    """The plan, the admin, the extra topics an agreement in force still grants, and the
    governance planned from."""
    from governance.loader import governance_from_dir
    from governance.topics import Topics, desired_topics, plan
    from schemas.catalog import load_catalog
    from sharebus.governance_log import read_current

    catalog = load_catalog()
    require(kafka=True)
    topics = Topics()
    cluster = topics.describe()  # first: an unreachable Kafka is said at once
    in_force = read_current()
    gov = governance_from_dir(governance, catalog) if governance else in_force
    if governance is None and in_force.version == 0:
        # A new cluster: the source and system topics need no governance; bank topics
        # follow the first `governance apply` (and the workers create them anyway).
        err.print(
            "note: no governance in force yet: source and system topics only"
            " (bank topics follow `sharebus governance apply <folder>`)",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
    desired = desired_topics(catalog, gov.agreements.values(), partitions)
    result = plan(desired, cluster)
    granted = {s.name for s in desired_topics(catalog, in_force.agreements.values(), partitions)}
    protected = [name for name in result.extra if name in granted]
    if protected:
        extra = tuple(name for name in result.extra if name not in granted)
        result = replace(result, extra=extra)
    return result, topics, protected, gov


def _summary(result: Plan) -> str:
    return (
        f"{len(result.create)} to create, {len(result.increase)} to grow, "
        f"{len(result.alter)} to reconfigure; {len(result.extra)} extra "
        f"(apply --prune deletes them); {len(result.problems)} problems"
    )


@topics_app.command("plan")
@friendly
def topics_plan(
    governance: Governance = None,
    partitions: Partitions = 3,
    as_json: Annotated[bool, typer.Option("--json", help="the plan as JSON on stdout")] = False,
) -> None:
    """Show what `topics apply` would do: action, topic, partitions, config."""
    result, _, protected, _ = _plan(governance, partitions)
    if as_json:
        # Field names as the plan has them, and the extra topics an agreement in force
        # still grants (never deleted).
        body = dataclasses.asdict(result) | {"protected": protected}
        print(json.dumps(body, ensure_ascii=False))
        return
    rows = result.rows()
    if rows:
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for action, topic, count, config in rows:
            line = f"{action:<{widths[0]}}  {topic:<{widths[1]}}  {count:<{widths[2]}}  {config}"
            say(line.rstrip())
    for name in protected:
        say(f"keep     {name}  granted by an agreement in force: never pruned")
    for problem in result.problems:
        say(f"problem  {problem}")
    say(f"plan: {_summary(result)}")


@topics_app.command("apply")
@friendly
def topics_apply(
    governance: Governance = None,
    partitions: Partitions = 3,
    prune: Annotated[
        bool, typer.Option("--prune", help="also delete managed topics nobody declares")
    ] = False,
) -> None:
    """Create missing topics, add partitions, set managed configs; delete extras with --prune;
    register every bank topic's schema (before its first delivery)."""
    from consumers.subjects import register_bank_subjects
    from foundation.settings import get_kafka_settings
    from schemas.catalog import load_catalog
    from schemas.serde import AvroSerde, registry_client

    result, topics, protected, gov = _plan(governance, partitions)
    if prune and governance is None and gov.version == 0:
        raise UsageError(
            "--prune with no governance in force would delete every bank topic:"
            " `sharebus governance apply <folder>` first, or prune from a folder with --governance"
        )
    for name in protected:
        say(f"kept {name}: granted by an agreement in force, never pruned")
    if prune and result.extra:
        say(f"deleting {len(result.extra)} topic(s) no agreement in force grants:")
        for name in result.extra:
            say(f"  {name}")
    topics.apply(result, prune=prune, report=say)
    serde = AvroSerde(registry_client(get_kafka_settings().registry()))
    subjects = register_bank_subjects(gov, load_catalog(), serde)
    for s in subjects:
        say(f"{'registered' if s.new else 'unchanged '}  {s.subject}  id {s.schema_id}")
    deleted = len(result.extra) if prune else 0
    kept = len(result.extra) - deleted
    say(
        f"applied: {len(result.create)} created, {len(result.increase)} grown, "
        f"{len(result.alter)} reconfigured, {deleted} deleted"
        + (f"; {kept} extra kept (--prune deletes them)" if kept else "")
    )
    new = sum(s.new for s in subjects)
    say(f"bank subjects: {new} registered, {len(subjects) - new} unchanged")
    if result.problems:
        for problem in result.problems:
            err.print(f"problem: {problem}", markup=False, highlight=False, soft_wrap=True)
        raise SharebusError(f"{len(result.problems)} problems left as they are")


@schemas_app.command("register")
@friendly
def schemas_register() -> None:
    """Register every category's envelope, its subject set to BACKWARD compatibility."""
    from foundation.settings import get_kafka_settings
    from schemas.catalog import load_catalog
    from schemas.registry import COMPATIBILITY, register_all
    from schemas.serde import registry_client

    require(registry=True)
    registered = register_all(load_catalog(), registry_client(get_kafka_settings().registry()))
    for r in registered:
        say(f"{'registered' if r.new else 'unchanged '}  {r.subject}  id {r.schema_id}")
    new = sum(r.new for r in registered)
    say(
        f"{len(registered)} subjects {COMPATIBILITY}: {new} registered, "
        f"{len(registered) - new} unchanged"
    )


@schemas_app.command("check")
@friendly
def schemas_check() -> None:
    """Ask the registry whether every registered subject accepts the local envelope."""
    from foundation.settings import get_kafka_settings
    from schemas.catalog import load_catalog
    from schemas.registry import check_all, registered_subjects
    from schemas.serde import registry_client

    catalog = load_catalog()
    require(registry=True)
    client = registry_client(get_kafka_settings().registry())
    problems = check_all(catalog, client)
    for p in problems:
        err.print(
            f"incompatible {p.subject}: {p.reason}", markup=False, highlight=False, soft_wrap=True
        )
    if problems:
        raise typer.Exit(1)
    checked = len(registered_subjects(catalog, client))
    unregistered = len(catalog) - checked
    say(
        f"all {checked} subjects compatible"
        + (f" ({unregistered} not registered yet)" if unregistered else "")
    )
