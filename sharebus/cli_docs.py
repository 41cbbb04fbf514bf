"""`sharebus grants`, `sharebus docs asyncapi` and `sharebus docs catalog`: what a bank
receives, self-service, and the whole catalog as a page to browse.

All read the governance in force (the governance topics), or a folder of YAML with
`--governance` (what would be in force once applied).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from foundation.errors import SharebusError
from sharebus.cli_common import friendly

if TYPE_CHECKING:
    from governance.models import Governance

docs_app = typer.Typer(help="Documents generated from the governance.", no_args_is_help=True)
out = Console(soft_wrap=True, highlight=False)

Bank = Annotated[str, typer.Option(help="bank id, e.g. ccb")]
Folder = Annotated[
    Path | None,
    typer.Option(help="read this folder of governance YAML instead of the governance in force"),
]


def _governance(folder: Path | None, bank: str) -> Governance:
    from consumers.grants import check_request
    from governance.loader import governance_from_dir
    from schemas.catalog import load_catalog
    from sharebus.governance_log import read_current

    gov = governance_from_dir(folder) if folder else read_current()
    check_request(gov, bank, [], load_catalog())
    return gov


@friendly
def grants(
    bank: Bank,
    as_json: Annotated[bool, typer.Option("--json", help="JSON, for scripts")] = False,
    governance: Folder = None,
) -> None:
    """What the bank is granted: topics, fields, masks, filters, consent, retention,
    schema subjects, agreement and purpose."""
    from consumers.grants import grants_of

    gov = _governance(governance, bank)
    views = grants_of(gov, bank)
    if as_json:
        body = {
            "bank": bank,
            "governance_version": gov.version,
            "grants": [v.as_json() for v in views],
        }
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
        return
    where = f"folder {governance}" if governance else f"governance version {gov.version}"
    out.print(f"bank {bank}, {where}: {len(views)} grants", markup=False)
    agreement = None
    for v in views:
        if v.agreement != agreement:
            agreement = v.agreement
            window = f"{v.effective_from:%Y-%m-%d} to {v.effective_until:%Y-%m-%d}"
            out.print(
                f"\nagreement {v.agreement} v{v.agreement_version} ({v.status}), purpose "
                f"{v.purpose}, {window}",
                markup=False,
            )
        lines = [
            f"  {v.topic}" + ("" if v.entrusted else "  (not entrusted: nothing is delivered)"),
            f"    subject   {v.subject}",
            f"    fields    {', '.join(v.fields)}",
        ]
        lines += [f"    mask      {field}: {how}" for field, how in v.masks.items()]
        lines += [
            f"    filter    {v.filter or '(none)'}",
            f"    consent   {'required' if v.consent_required else 'not required'}",
            f"    retention {v.retention_days} days",
            f"    on end    {_ON_END[v.on_end]}",
        ]
        out.print("\n".join(lines), markup=False)


_ON_END = {
    "keep": "keep (what was received stays for the retention period)",
    "retract": "retract (a retraction for every key held when the agreement ends)",
}


@docs_app.command("asyncapi")
@friendly
def asyncapi_cmd(
    bank: Bank,
    to: Annotated[
        Path | None, typer.Option("--out", help="write here instead of standard output")
    ] = None,
    governance: Folder = None,
) -> None:
    """An AsyncAPI 3.0 document (JSON) of the bank's channels, messages and bindings."""
    from consumers.asyncapi import document
    from consumers.grants import grants_of
    from foundation.settings import get_kafka_settings
    from governance.topics import TopicError, Topics
    from schemas.catalog import load_catalog

    gov = _governance(governance, bank)
    kafka = get_kafka_settings()
    try:
        partitions = Topics(kafka).partitions(timeout=5)
    except TopicError:
        partitions = {}  # offline: the document leaves partition counts out
    doc = document(
        gov,
        bank,
        grants_of(gov, bank),
        load_catalog(),
        bootstrap=kafka.bootstrap,
        registry_url=kafka.registry_url,
        partitions=partitions,
    )
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if to is None:
        sys.stdout.write(text)
        return
    to.write_text(text, encoding="utf-8")
    Console(stderr=True).print(
        f"wrote {to}: {len(doc['channels'])} channels of bank {bank}", markup=False
    )


@docs_app.command("catalog")
@friendly
def catalog_cmd(
    to: Annotated[Path, typer.Option("--out", help="the folder to write index.html into")],
    governance: Folder = None,
) -> None:
    """A static HTML catalog, one page that needs no server and no network: every agency's
    categories and fields, what is entrusted, and which bank is granted which fields."""
    from governance.loader import governance_from_dir
    from schemas.catalog import load_catalog
    from sharebus.catalog_page import render
    from sharebus.catalog_site import build_site
    from sharebus.governance_log import read_current

    catalog = load_catalog()
    now = datetime.now(UTC)
    if governance is not None:
        gov = governance_from_dir(governance, catalog)
        source = f"folder {governance} (what would be in force once applied)"
    else:
        gov = read_current()
        applied = datetime.fromtimestamp(gov.version / 1000, UTC)
        source = f"in force, version {gov.version} (applied {applied:%Y-%m-%d %H:%M %Z})"
    site = build_site(catalog, gov, source, now)
    index = to / "index.html"
    try:
        to.mkdir(parents=True, exist_ok=True)
        index.write_text(render(site), encoding="utf-8")
    except OSError as exc:
        raise SharebusError(f"cannot write {index}: {exc.strerror or exc}") from exc
    Console(stderr=True).print(
        f"wrote {index}: {len(site.categories)} categories, {site.grant_count} grants to "
        f"{len(site.banks)} banks",
        markup=False,
    )
