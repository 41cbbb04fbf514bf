"""Governance records from YAML files (the samples in `examples/governance/`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from governance.errors import GovernanceError
from governance.models import Agreement


def load_dir(directory: Path) -> list[Agreement]:
    """Every agreement under `directory` (`*.yaml`, recursively), validated."""
    if not directory.is_dir():
        raise GovernanceError(f"governance folder not found: {directory}")
    agreements = []
    for path in sorted(directory.rglob("*.y*ml")):
        for doc in _documents(path):
            if doc.get("kind", "agreement") != "agreement":
                continue
            try:
                agreements.append(Agreement.model_validate(doc))
            except ValidationError as exc:
                raise GovernanceError(f"{path}: {_first_error(exc)}") from exc
    return agreements


def _documents(path: Path) -> list[dict[str, Any]]:
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text("utf-8")) if d is not None]
    except yaml.YAMLError as exc:
        raise GovernanceError(f"{path}: not valid YAML: {exc}") from exc
    for doc in docs:
        if not isinstance(doc, dict):
            raise GovernanceError(f"{path}: each document must be a mapping")
    return docs


def _first_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        parts.append(f"{loc}: {err['msg']}" if loc else err["msg"])
    return "; ".join(parts)
