"""Governance records checked against the catalog and against each other.

The models check each record alone; here go the checks that need more: that categories,
fields, agencies and banks exist, that masks suit their fields, that filters compile and
read only what a filter sees, that keys are unique, and that no two agreements of a bank
grant a category in overlapping windows (which agreement applies would be ambiguous).
Every problem names the file and line of its record; all are returned, none raised.
"""

from __future__ import annotations

import re
from collections import defaultdict
from itertools import combinations
from typing import TYPE_CHECKING

from governance.cel import PROFILE_FIELDS, VARIABLES, compile_filter, unknown_variables
from governance.errors import FilterError
from governance.masks import can_generalize
from governance.models import Agency, Agreement, Bank, Consent, Entrustment, Grant, Status
from governance.typecheck import filter_type_problems
from schemas.catalog import AGENCIES, Catalog
from schemas.uscc import problem as uscc_problem

if TYPE_CHECKING:
    from governance.loader import Loaded, Sourced

REGISTRATION = "market.registration"
_STRING_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_FIELD_READ = re.compile(r"\b(record|enterprise)\s*\.\s*([A-Za-z_]\w*)")


def validate(loaded: Loaded, catalog: Catalog) -> list[str]:
    """Every problem of the loaded records against `catalog` and against each other."""
    problems = _duplicates(loaded.records)
    records = [s.record for s in loaded.records]
    banks = {r.id: r for r in records if isinstance(r, Bank)}
    agencies = {r.id: r for r in records if isinstance(r, Agency)}
    for sourced in loaded.records:
        record = sourced.record
        if isinstance(record, Entrustment):
            found = _entrustment(record, catalog, agencies)
        elif isinstance(record, Agreement):
            found = _agreement(record, catalog, banks)
        elif isinstance(record, Consent):
            found = _consent(record, catalog, banks)
        else:
            found = _party(record)
        problems.extend(f"{sourced.where}: {p}" for p in found)
    problems.extend(_overlaps(loaded.records))
    return problems


def _duplicates(records: list[Sourced]) -> list[str]:
    seen: dict[tuple[str, str], Sourced] = {}
    problems = []
    for sourced in records:
        record = sourced.record
        first = seen.setdefault((record.kind, record.key), sourced)
        if first is not sourced:
            problems.append(
                f"{sourced.where}: duplicate {record.kind} '{record.key}' (also in {first.where})"
            )
    return problems


def _party(party: Bank | Agency) -> list[str]:
    if isinstance(party, Agency) and party.id not in AGENCIES:
        # An agency publishes the catalog's categories: one without any is a typo.
        return [f"agency '{party.id}' has no categories in the catalog ({', '.join(AGENCIES)})"]
    return []


def _unknown_party(
    kind: str, name: str, where: str, parties: dict[str, Bank] | dict[str, Agency]
) -> str:
    if name not in parties:
        known = ", ".join(sorted(parties)) or f"none: add a `kind: {kind}` record"
        return f"unknown {kind} '{name}'{where} ({known})"
    if not parties[name].active:
        return f"{kind} '{name}'{where} is retired"
    return ""


def _entrustment(
    entrustment: Entrustment, catalog: Catalog, agencies: dict[str, Agency]
) -> list[str]:
    agency = entrustment.agency
    problems = []
    unknown = _unknown_party("agency", agency, " in entrustment", agencies)
    if unknown and entrustment.status is not Status.terminated:
        problems.append(unknown)
    until = entrustment.effective_until
    if until is not None and until <= entrustment.effective_from:
        problems.append(f"entrustment of {agency}: effective_until must be after effective_from")
    for category in _repeated(entrustment.categories):
        problems.append(f"entrustment of {agency} lists {category} twice")
    for category in entrustment.categories:
        if category not in catalog:
            problems.append(f"unknown category '{category}' in entrustment of {agency}")
        elif catalog.get(category).agency != agency:
            owner = catalog.get(category).agency
            problems.append(
                f"category '{category}' in entrustment of {agency} belongs to agency {owner}"
            )
    return problems


def _agreement(agreement: Agreement, catalog: Catalog, banks: dict[str, Bank]) -> list[str]:
    problems = []
    unknown = _unknown_party("bank", agreement.bank, f" in agreement {agreement.id}", banks)
    if unknown and agreement.status is not Status.terminated:
        problems.append(unknown)
    for category in _repeated([g.category for g in agreement.grants]):
        problems.append(f"agreement {agreement.id} grants {category} twice")
    for grant in agreement.grants:
        problems.extend(_grant(agreement.id, grant, catalog))
    return problems


def _grant(agreement_id: str, grant: Grant, catalog: Catalog) -> list[str]:
    category_id = grant.category
    if category_id not in catalog:
        return [f"unknown category '{category_id}' in grant of agreement {agreement_id}"]
    category = catalog.get(category_id)
    types = {f.name: f.type for f in category.fields}
    of = f"grant {category_id} of agreement {agreement_id}"
    problems = [
        f"{of}: {category_id} has no field '{name}'" for name in grant.fields if name not in types
    ]
    problems += [f"{of}: field '{name}' is granted twice" for name in _repeated(grant.fields)]
    for name, mask in grant.masks.items():
        if mask.kind == "generalize" and name in types and not can_generalize(types[name]):
            problems.append(
                f"{of}: cannot generalize '{name}' (only dates, instants and numbers can be)"
            )
    if grant.filter is not None:
        where = f"filter of {agreement_id} grant {category_id}"
        found = _filter(grant.filter, set(types))
        if not found:
            # It compiles and names what exists: does it run on every well-typed record?
            registration = catalog.get(REGISTRATION) if REGISTRATION in catalog else None
            found = filter_type_problems(grant.filter, category, registration)
        problems += [f"{where}: {p}" for p in found]
    return problems


def _filter(expr: str, fields: set[str]) -> list[str]:
    try:
        program = compile_filter(expr)
    except FilterError as exc:
        return [str(exc)]
    problems = [
        f"unknown variable '{name}' (a filter sees {', '.join(VARIABLES)})"
        for name in unknown_variables(program)
    ]
    # A misspelt field would fail on every event (a deny with reason `error`): catch it
    # here. Literals are blanked first so that a string such as 'record.x' is not read.
    code = _STRING_LITERAL.sub("''", expr)
    for variable, name in dict.fromkeys(_FIELD_READ.findall(code)):
        if variable == "record" and name not in fields:
            problems.append(f"the record has no field '{name}'")
        elif variable == "enterprise" and name not in PROFILE_FIELDS:
            problems.append(
                f"the enterprise profile has no field '{name}' ({', '.join(PROFILE_FIELDS)})"
            )
    return problems


def _consent(consent: Consent, catalog: Catalog, banks: dict[str, Bank]) -> list[str]:
    problems = []
    unknown = _unknown_party("bank", consent.bank, "", banks)
    if unknown:
        problems.append(f"consent {consent.key}: {unknown}")
    bad_code = uscc_problem(consent.uscc)
    if bad_code:
        problems.append(f"consent {consent.key}: invalid USCC: {bad_code}")
    if consent.expires_at <= consent.granted_at:
        problems.append(f"consent {consent.key}: expires_at must be after granted_at")
    if consent.categories != "all":
        for category in consent.categories:
            if category not in catalog:
                problems.append(f"consent {consent.key}: unknown category '{category}'")
    return problems


def _overlaps(records: list[Sourced]) -> list[str]:
    by_bank: dict[str, list[Sourced]] = defaultdict(list)
    for sourced in records:
        record = sourced.record
        if isinstance(record, Agreement) and record.status is not Status.terminated:
            by_bank[record.bank].append(sourced)
    problems = []
    for bank, sourced_agreements in by_bank.items():
        for first, second in combinations(sourced_agreements, 2):
            a, b = first.record, second.record
            assert isinstance(a, Agreement) and isinstance(b, Agreement)
            if not (a.effective_from < b.effective_until and b.effective_from < a.effective_until):
                continue
            shared = sorted({g.category for g in a.grants} & {g.category for g in b.grants})
            if shared:
                problems.append(
                    f"{second.where}: agreements {a.id} ({first.where}) and {b.id} of {bank}"
                    f" both grant {', '.join(shared)} in overlapping windows"
                )
    return problems


def _repeated(items: list[str]) -> list[str]:
    seen: set[str] = set()
    repeated: list[str] = []
    for item in items:
        if item in seen and item not in repeated:
            repeated.append(item)
        seen.add(item)
    return repeated
