"""The parties of the bus: the agencies that publish and the banks that receive.

They are governance records: commands read them here, from the governance in force on
the cluster, so a bank onboarded by `governance apply` is known to every command at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from foundation.errors import UsageError


@dataclass(frozen=True)
class Party:
    id: str
    kind: str  # "agency" or "bank"
    name: str
    active: bool


@lru_cache(maxsize=1)
def parties() -> tuple[Party, ...]:
    """Every agency, then every bank, of the governance in force (needs the broker)."""
    from sharebus.governance_log import read_current

    gov = read_current()
    return tuple(
        Party(p.id, kind, f"{p.name_en} {p.name_zh}", p.active)
        for kind, group in (("agency", gov.agencies), ("bank", gov.banks))
        for p in group.values()
    )


def ids(kind: str) -> list[str]:
    return [p.id for p in parties() if p.kind == kind]


def known(kind: str, party: str) -> str:
    """`party` when the governance in force has it; UsageError naming the known ones."""
    known_ids = ids(kind)
    if party not in known_ids:
        raise UsageError(f"unknown {kind} '{party}': one of {', '.join(known_ids)}")
    return party
