"""Governance records from a folder of YAML files (the samples in `examples/governance/`).

Every `*.yaml` and `*.yml` below the folder, each file one or more documents, each
document one record with its `kind` (`bank`, `agency`, `entrustment`, `agreement` or
`consent`: required, so that a record never silently becomes another kind). Loading
collects every problem instead of stopping at the first: a person fixing a folder sees
all of them at once. Problems name the file (relative to the folder) and the line where
the document starts:
`agreements/ccb.yaml:2: grants.0.fileds: Extra inputs are not permitted`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from governance.errors import GovernanceError
from governance.models import (
    Agency,
    Agreement,
    Bank,
    Consent,
    Entrustment,
    FolderRecord,
    Governance,
)
from governance.validate import validate
from schemas.catalog import Catalog, load_catalog

KINDS: dict[str, type[FolderRecord]] = {
    "bank": Bank,
    "agency": Agency,
    "entrustment": Entrustment,
    "agreement": Agreement,
    "consent": Consent,
}


@dataclass(frozen=True)
class Sourced:
    """A record and where it was written."""

    record: FolderRecord
    path: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Loaded:
    """What a folder holds: the records that parsed, and every problem found on the way."""

    directory: Path
    records: list[Sourced] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def load_dir(directory: Path) -> Loaded:
    """Every record under `directory`, parsed and checked against its model (not the catalog)."""
    loaded = Loaded(directory)
    if not directory.is_dir():
        loaded.problems.append(f"governance folder not found: {directory}")
        return loaded
    paths = sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml"))
    for path in paths:
        if path.is_file():
            _load_file(path, path.relative_to(directory).as_posix(), loaded)
    return loaded


def governance_from_dir(
    directory: Path, catalog: Catalog | None = None, version: int = 0
) -> Governance:
    """The governance a folder describes; GovernanceError listing every problem if any."""
    return load_governance(directory, catalog, version)[0]


def load_governance(
    directory: Path, catalog: Catalog | None = None, version: int = 0
) -> tuple[Governance, dict[str, str]]:
    """The governance a folder describes, and the file of each consent (by its key)."""
    loaded = load_dir(directory)
    problems = loaded.problems + validate(loaded, catalog or load_catalog())
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise GovernanceError(f"{count} in governance {directory}:\n" + "\n".join(problems))
    gov = Governance.of([s.record for s in loaded.records], version=version)
    sources = {s.record.key: s.path for s in loaded.records if isinstance(s.record, Consent)}
    return gov, sources


def _load_file(path: Path, name: str, loaded: Loaded) -> None:
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        loaded.problems.append(f"{name}: cannot be read: {exc}")
        return
    try:
        for line, node, doc in _documents(text):
            for dup_line, key in _duplicate_keys(node):
                loaded.problems.append(f"{name}:{dup_line}: key '{key}' appears twice")
            _parse(doc, name, line, loaded)
    except yaml.YAMLError as exc:
        loaded.problems.append(f"{name}:{_yaml_line(exc)}: not valid YAML: {_yaml_reason(exc)}")


def _documents(text: str) -> Iterator[tuple[int, yaml.Node, Any]]:
    """Each document: the line (1-based) it starts on, its node, its data."""
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is not None:
                yield node.start_mark.line + 1, node, loader.construct_document(node)
    finally:
        loader.dispose()


def _parse(doc: Any, name: str, line: int, loaded: Loaded) -> None:
    where = f"{name}:{line}"
    if doc is None:
        return
    if not isinstance(doc, dict):
        loaded.problems.append(f"{where}: a document must be a mapping (a record)")
        return
    kind = doc.get("kind")
    if kind is None:
        loaded.problems.append(f"{where}: kind is required: {', '.join(KINDS)}")
        return
    model = KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        loaded.problems.append(f"{where}: unknown kind {kind!r}: {', '.join(KINDS)}")
        return
    try:
        record = model.model_validate(doc)
    except ValidationError as exc:
        loaded.problems.extend(f"{where}: {p}" for p in field_errors(exc))
        return
    loaded.records.append(Sourced(record, name, line))


def field_errors(exc: ValidationError) -> list[str]:
    """Pydantic's errors as `loc: msg`, one per field."""
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        out.append(f"{loc}: {msg}" if loc else msg)
    return out


def _duplicate_keys(node: yaml.Node) -> Iterator[tuple[int, str]]:
    # PyYAML keeps the last of two equal keys silently: a second `fields:` would replace
    # the first without a word, which is the silent no-op `extra="forbid"` exists to stop.
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    yield key.start_mark.line + 1, key.value
                seen.add(key.value)
            yield from _duplicate_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item)


def _yaml_line(exc: yaml.YAMLError) -> int:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else 1


def _yaml_reason(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        parts = [p for p in (exc.context, exc.problem) if p]
        if parts:
            return ", ".join(parts)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
