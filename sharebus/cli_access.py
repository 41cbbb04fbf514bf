"""`sharebus principals` and `sharebus acl`: who may connect, and what each may do."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from foundation.errors import SharebusError
from sharebus.cli_common import friendly

if TYPE_CHECKING:
    from sharebus.access import AclPlan
    from sharebus.principals import Acl

principals_app = typer.Typer(help="SCRAM users of the bus.", no_args_is_help=True)
acl_app = typer.Typer(help="ACLs derived from the parties, as code.", no_args_is_help=True)
out = Console(soft_wrap=True, highlight=False)


GovernanceDir = Annotated[
    Path | None,
    typer.Option(
        "--governance",
        help="take the parties from this folder of governance YAML instead of the cluster's",
    ),
]


def _parties(folder: Path | None) -> tuple[list[str], list[str]]:
    """The active agencies and banks the principals and ACLs are derived from: of the
    governance in force, or of a folder (before any governance is applied)."""
    from governance.loader import governance_from_dir
    from sharebus.governance_log import read_current

    if folder is not None:
        gov = governance_from_dir(folder)
    else:
        gov = read_current()
        if gov.version == 0:
            raise SharebusError(
                "no governance in force on the cluster: `sharebus governance apply <folder>` "
                "first, or derive from a folder with --governance"
            )
    agencies = sorted(a.id for a in gov.agencies.values() if a.active)
    return agencies, gov.active_banks()


@principals_app.command("apply")
@friendly
def principals_apply(governance: GovernanceDir = None) -> None:
    """Create each party's SCRAM user (or set its password): from
    SHAREBUS_PRINCIPAL_PASSWORDS, else generated into the stack's secrets file (0600)."""
    from foundation.settings import PrincipalSettings, get_kafka_settings, get_stack_settings
    from sharebus.access import Access
    from sharebus.principals import principals

    given = PrincipalSettings().passwords
    secrets = get_stack_settings().secrets()
    users = principals(*_parties(governance))
    passwords = {u: given.get(u) or secrets.get_or_create(u) for u in users}
    access = Access(get_kafka_settings())
    existing = access.users()
    access.set_passwords(passwords)
    for user in users:
        source = "from settings" if user in given else f"in {secrets.path}"
        verb = "password set" if user in existing else "created"
        out.print(f"{verb:<13} {user} (password {source})")


@acl_app.command("plan")
@friendly
def acl_plan(
    governance: GovernanceDir = None,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="exit 3 when the cluster differs")
    ] = False,
) -> None:
    """Show the ACLs apply would add (+) and remove (-)."""
    plan = _plan(governance)
    for line in plan.lines():
        out.print(line)
    if plan.empty:
        out.print("the cluster's ACLs are as derived")
    elif exit_code:
        raise typer.Exit(3)


@acl_app.command("apply")
@friendly
def acl_apply(governance: GovernanceDir = None) -> None:
    """Converge the cluster's ACLs to the derived ones (adds, and removes the others)."""
    from foundation.settings import get_kafka_settings
    from sharebus.access import Access

    plan = _plan(governance)
    Access(get_kafka_settings()).apply(plan, report=out.print)
    if plan.empty:
        out.print("nothing to change")


@acl_app.command("list")
@friendly
def acl_list(governance: GovernanceDir = None) -> None:
    """The derived ACLs, one per line (what `apply` converges to)."""
    for acl in sorted(_derived(governance)):
        out.print(str(acl))


def _derived(governance: Path | None) -> frozenset[Acl]:
    from sharebus.principals import derive_acls

    return derive_acls(*_parties(governance))


def _plan(governance: Path | None) -> AclPlan:
    from foundation.settings import get_kafka_settings
    from sharebus.access import Access

    return Access(get_kafka_settings()).plan(_derived(governance))


class ToolFormat(StrEnum):
    java = "java"
    librdkafka = "librdkafka"


@friendly
def client_config(
    out: Annotated[Path, typer.Argument(help="file to write (mode 0600: it holds a password)")],
    tool: Annotated[
        ToolFormat,
        typer.Option(help="java: Kafka's tools (--command-config); librdkafka: kcat (-F)"),
    ] = ToolFormat.java,
) -> None:
    """Write a client properties file for plain Kafka tools, as the principal of the
    settings (SHAREBUS_SASL_USERNAME; the local stack's admin when unset)."""
    from foundation.secrets import write_private
    from foundation.settings import get_kafka_settings

    kafka = get_kafka_settings()
    if tool is ToolFormat.java:
        text = kafka.java_properties()
    else:
        conf = {k: v for k, v in kafka.librdkafka().items() if isinstance(v, str)}
        text = "".join(f"{k}={v}\n" for k, v in conf.items())
    write_private(out, text)
    out_console = Console(stderr=True, highlight=False)
    out_console.print(f"wrote {out} for {kafka.principal} at {kafka.bootstrap}")
