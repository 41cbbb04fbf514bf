"""The Avro schema of a bank topic's values under a grant: what the worker encodes with,
what `topics apply` registers and what the bank's AsyncAPI document shows. One
derivation, so the three never differ."""

from __future__ import annotations

from typing import Any

from governance.decision import delivered_fields
from governance.models import Grant
from schemas.catalog import Catalog
from schemas.derive import bank_envelope


def bank_schema(catalog: Catalog, bank: str, grant: Grant) -> dict[str, Any]:
    """The granted fields less the dropped ones, masked ones as text."""
    masked = [f for f, m in grant.masks.items() if m.kind != "drop"]
    return bank_envelope(catalog.get(grant.category), bank, delivered_fields(grant), masked)
