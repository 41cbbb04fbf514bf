"""Schemas of the bus's own topics (not categories): the audit record."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def audit_schema() -> dict[str, Any]:
    text = resources.files("schemas").joinpath("system", "audit.avsc").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
