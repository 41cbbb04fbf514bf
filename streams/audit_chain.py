"""The audit is hash-chained: an entry removed, altered or inserted is found.

Every source partition of a worker group (`sharebus-worker:pub.tax.payment-record/1`) has
one chain: each audit record of
its events carries `chain`, the hash of the chain's previous record (`prev_hash`; the
first is anchored on the empty string) and its own `hash`, the SHA-256 of `prev_hash`
and the record's canonical JSON. A chain has one writer at a time, the worker owning the
source partition; its head travels with the source offsets it commits (in the same
transaction, as the offsets' metadata), so the next owner goes on from it. All records
of a chain go to one audit partition, in order, so `sharebus audit verify` can walk it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from streams.murmur2 import partition_of

GENESIS = ""
SEALS = ("chain", "prev_hash", "hash")


@lru_cache(maxsize=65536)  # asked for every event and every audit record
def chain_of(group: str, topic: str, partition: int) -> str:
    """A chain per source partition and worker group (a demo's group is not production's)."""
    return f"{group}:{topic}/{partition}"


@lru_cache(maxsize=65536)
def audit_partition(chain: str, partitions: int) -> int:
    return partition_of(chain.encode(), partitions)


def canonical(record: Mapping[str, Any]) -> str:
    """The record but its `hash` as JSON: keys sorted, `", "` and `": "` between, not
    ASCII-escaped, instants and dates in ISO 8601, anything else JSON cannot say as text.

    What `json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)` writes, built
    here from each value's JSON kept per key: it is hashed for every audit record (four per
    event), and most values repeat from one record to the next (a bank, a reason, a chain).
    """
    order = _ORDERS.get(tuple(record))
    if order is None:
        if len(_ORDERS) >= _KEEP:
            _ORDERS.clear()
        order = _ORDERS[tuple(record)] = tuple(
            (k, _STRING(k) + ": ", _kept.setdefault(k, {})) for k in sorted(record) if k != "hash"
        )
    return "{" + ", ".join([key + _json(record[k], kept) for k, key, kept in order]) + "}"


def _json(value: Any, kept: dict[Any, str]) -> str:
    kind = type(value)
    if kind is str:
        text = kept.get(value)
        if text is None:
            if len(kept) >= _KEEP:
                kept.clear()
            text = kept[value] = _STRING(value)
        return text
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    if kind is datetime:
        return _STRING(value.isoformat())
    if kind is list and all(type(v) is str for v in value):
        return "[" + ", ".join(map(_STRING, value)) + "]"
    return _ENCODER.encode(value)


def _text(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


_KEEP = 4096  # JSON texts kept per key; a key of unique values starts over
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=_text)
_STRING = json.encoder.encode_basestring  # the C one where there is one, as json.dumps uses
_ORDERS: dict[tuple[str, ...], tuple[tuple[str, str, dict[Any, str]], ...]] = {}
_kept: dict[str, dict[Any, str]] = {}


def entry_hash(record: Mapping[str, Any]) -> str:
    """The hash of a record that already names its chain and `prev_hash`."""
    return hashlib.sha256(canonical(record).encode()).hexdigest()


def seal(record: dict[str, Any], chain: str, prev: str) -> str:
    """Chain `record` after `prev`, in place; return its hash (the chain's new head)."""
    record["chain"] = chain
    record["prev_hash"] = prev
    record["hash"] = entry_hash(record)
    return str(record["hash"])


@dataclass(frozen=True)
class Problem:
    position: str  # sharebus.audit/<partition>/<offset>
    chain: str
    what: str

    def __str__(self) -> str:
        return f"{self.position} ({self.chain}): {self.what}"


def verify(entries: Iterable[tuple[str, Mapping[str, Any]]]) -> tuple[int, list[Problem]]:
    """Walk audit records in partition order (position, record); the number of chained
    records checked, and the first problem of each chain."""
    heads: dict[str, str] = {}
    seen: dict[str, set[str]] = {}
    broken: dict[str, Problem] = {}
    checked = 0
    for position, record in entries:
        chain = record.get("chain") or ""
        if not chain:
            continue  # written before the audit was chained
        checked += 1
        if chain in broken:
            continue
        head = heads.get(chain, GENESIS)
        known = seen.setdefault(chain, {GENESIS})
        if entry_hash(record) != record.get("hash"):
            broken[chain] = Problem(position, chain, "altered: its hash does not match it")
        elif record.get("prev_hash") != head:
            if record.get("prev_hash") in known:
                what = "an entry was inserted before it: it does not follow the one before"
            else:
                what = "an entry before it was removed: it follows one that is not there"
            broken[chain] = Problem(position, chain, what)
        heads[chain] = str(record.get("hash"))
        known.add(heads[chain])
    return checked, sorted(broken.values(), key=lambda p: p.position)
