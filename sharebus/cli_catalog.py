"""`sharebus catalog list|show` and `sharebus parties`: what the bus carries, and for whom.

Plain aligned lines for people, `--json` for scripts.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from foundation.errors import UsageError
from foundation.probe import require
from sharebus.catalog_view import declared_title, meanings_of, title_of, type_name
from sharebus.cli_common import friendly
from sharebus.parties import parties

catalog_app = typer.Typer(help="The categories of data the bus carries.", no_args_is_help=True)
AsJson = Annotated[bool, typer.Option("--json", help="JSON on stdout")]


def emit(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


@catalog_app.command("list")
@friendly
def catalog_list(
    agency: Annotated[str | None, typer.Option(help="only this agency's categories")] = None,
    as_json: AsJson = False,
) -> None:
    """Every category: id, source topic, number of fields, title, what it holds."""
    from schemas.catalog import load_catalog

    cats = [c for c in load_catalog() if agency is None or c.agency == agency]
    if not cats:
        agencies = sorted({c.agency for c in load_catalog()})
        raise UsageError(f"no category of agency '{agency}': one of {', '.join(agencies)}")
    cats.sort(key=lambda c: c.id)
    if as_json:
        emit(
            [
                {"id": c.id, "agency": c.agency, "topic": c.topic, "fields": len(c.fields)}
                | {"title": declared_title(c), "doc": c.record.get("doc", "")}
                for c in cats
            ]
        )
        return
    width = max((len(c.id) for c in cats), default=0)
    for c in cats:
        title = " ".join(title_of(c))
        print(f"{c.id:<{width}}  {len(c.fields):>3} fields  {title}: {c.record.get('doc', '')}")


@catalog_app.command("show")
@friendly
def catalog_show(
    category: Annotated[str, typer.Argument(help="category id, e.g. tax.payment-record")],
    as_json: AsJson = False,
) -> None:
    """One category's fields: name, type, sensitivity, whether optional, meaning."""
    from schemas.catalog import load_catalog

    cat = load_catalog().get(category)
    meanings = meanings_of(cat)
    fields: list[dict[str, Any]] = [
        {"name": f.name, "type": type_name(f.type), "optional": f.optional}
        | {"sensitivity": f.sensitivity, "meaning": meanings.get(f.name), "doc": f.doc}
        for f in cat.fields
    ]
    if as_json:
        emit(
            {"id": cat.id, "agency": cat.agency, "topic": cat.topic, "subject": cat.subject}
            | {"title": declared_title(cat), "doc": cat.record.get("doc", ""), "fields": fields}
        )
        return
    print(f"{cat.id}  topic {cat.topic}  subject {cat.subject}")
    print(" ".join(title_of(cat)))
    print(cat.record.get("doc", ""))
    # An enum's symbols would widen every line: they go after its meaning.
    for f in fields:
        if "enum(" in f["type"]:
            symbols = f["type"][f["type"].index("enum(") + 5 : -1]
            f["type"] = f["type"].replace(f"enum({symbols})", "enum")
            f["doc"] += f" [{symbols.replace(',', ' ')}]"
    name_w = max(len(f["name"]) for f in fields)
    type_w = max(len(f["type"]) for f in fields)
    # The meaning column only where some field has one: older records keep their layout.
    meaning_w = max(len(f["meaning"] or "") for f in fields)
    for f in fields:
        optional = "optional" if f["optional"] else "required"
        meaning = f"{f['meaning'] or '':<{meaning_w}}  " if meaning_w else ""
        print(
            f"  {f['name']:<{name_w}}  {f['type']:<{type_w}}  {optional}  "
            f"{f['sensitivity']:<8}  {meaning}{f['doc']}"
        )


@friendly
def parties_cmd(
    kind: Annotated[str | None, typer.Option(help="agency or bank")] = None,
    as_json: AsJson = False,
) -> None:
    """The agencies that publish and the banks that receive, as the governance in force
    has them."""
    if kind not in (None, "agency", "bank"):
        raise UsageError(f"--kind is agency or bank, not '{kind}'")
    require(kafka=True)
    chosen = [p for p in parties() if kind is None or p.kind == kind]
    if as_json:
        emit([{"id": p.id, "kind": p.kind, "name": p.name} for p in chosen])
        return
    for p in chosen:
        print(f"{p.kind:<6}  {p.id:<8}  {p.name}")
