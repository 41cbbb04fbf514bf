"""The real worker against an oracle: thousands of generated events of every category,
the sample governance, then every bank topic and the audit topic read back.

The oracle below is written from the rules of the design, not from the code: it must
agree on every (event, bank): nothing delivered that should not be, nothing missing that
should be, the delivered content field for field, no personal field unmasked, and one
audit entry per (event, bank).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from confluent_kafka import TopicPartition

from foundation.settings import KafkaSettings
from governance.models import Governance, Status
from producers.publisher import Publisher
from schemas import names
from schemas.catalog import load_catalog
from schemas.serde import AvroSerde, registry_client
from sharebus.governance_log import read_current
from synthetic.generate import Enterprise, population, records
from tests.integration.conftest import TEST_MASK_KEYS, WorkerProcess
from tests.integration.reading import (
    audit_until,
    decoded,
    end_offsets,
    ends_of,
    header,
    read_to_end,
)

CATALOG = load_catalog()
# About 2,400 events whatever the catalog's size (70 each of 33 categories; 8 each of 304).
PER_CATEGORY = max(8, 2400 // len(CATALOG))
DELETE_EVERY = 7  # every 7th event of a category is a delete

Profile = dict[str, Any] | None
# The sample's filters, written again in Python: (needs the profile, predicate).
FILTERS: dict[str, tuple[bool, Callable[[dict[str, Any], Profile], bool]]] = {
    "enterprise.scale in ['MICRO', 'SMALL']": (True, lambda r, e: e["scale"] in ("MICRO", "SMALL")),
    "record.rating in ['A', 'B']": (False, lambda r, e: r["rating"] in ("A", "B")),
    "record.amount_paid >= 10000.0": (False, lambda r, e: r["amount_paid"] >= 10000),
    "record.total_amount >= 50000.0 && record.invoice_count > 0": (
        False,
        lambda r, e: r["total_amount"] >= 50000 and r["invoice_count"] > 0,
    ),
    "!record.in_arrears": (False, lambda r, e: not r["in_arrears"]),
}
BANDS = [0, 10_000, 50_000, 100_000, 500_000, 1_000_000, 5_000_000, 10_000_000]


def band(amount: Decimal) -> str:
    if amount < 0:
        return "(-inf,0)"
    for low, high in itertools.pairwise(BANDS):
        if low <= amount < high:
            return f"[{low},{high})"
    return f"[{BANDS[-1]},+inf)"


def masked(kind: str, spec: Any, value: Any, bank: str) -> Any:
    if value is None:
        return None
    if kind == "hash":
        return hmac.new(
            TEST_MASK_KEYS[bank].encode(), str(value).encode(), hashlib.sha256
        ).hexdigest()
    if kind == "partial":
        first, last = spec.keep_first, spec.keep_last
        text = str(value)
        if len(text) <= first + last:
            return "*" * len(text)
        return text[:first] + "*" * (len(text) - first - last) + text[len(text) - last :]
    if kind == "generalize":
        return band(value) if isinstance(value, Decimal | int) else f"{value:%Y-%m}"
    raise AssertionError(kind)


def expect(
    category: str,
    op: str,
    uscc: str,
    record: dict[str, Any],
    bank: str,
    gov: Governance,
    profile: Profile,
) -> tuple[str, dict[str, Any] | None]:
    """(reason, what the bank sees) from the rules of the design."""
    now = datetime.now(UTC)
    agency = category.split(".")[0]
    ent = gov.entrustments.get(agency)
    if not (
        ent
        and ent.status == Status.active
        and ent.effective_from <= now
        and (ent.effective_until is None or now < ent.effective_until)
        and category in ent.categories
    ):
        return "not-entrusted", None
    granting = [
        (a, g)
        for a in gov.agreements.values()
        if a.bank == bank
        for g in a.grants
        if g.category == category
    ]
    if not granting:
        return "no-agreement", None
    active = [(a, g) for a, g in granting if a.status == Status.active]
    if not active:
        if any(a.status == Status.suspended for a, _ in granting):
            return "suspended", None
        return "terminated", None
    current = [(a, g) for a, g in active if a.effective_from <= now < a.effective_until]
    if not current:
        return "not-in-window", None
    _agreement, grant = max(current, key=lambda ag: ag[0].version)
    if grant.consent_required:
        c = gov.consents.get(f"{bank}:{uscc}")
        if not (
            c
            and not c.revoked
            and c.granted_at <= now < c.expires_at
            and (c.categories == "all" or category in c.categories)
        ):
            return "no-consent", None
    if grant.filter:
        needs_profile, predicate = FILTERS[grant.filter]
        if needs_profile and not profile:
            return "filtered", None
        if not predicate(record, profile):
            return "filtered", None
    seen = {}
    for field in grant.fields:
        mask = grant.masks.get(field)
        if mask is not None and mask.kind == "drop":
            continue
        value = record.get(field)
        seen[field] = masked(mask.kind, mask, value, bank) if mask else value
    return "delivered", seen


def latest_scales(settings: KafkaSettings) -> dict[str, dict[str, Any]]:
    topic = names.source_topic("market.registration")
    start = [TopicPartition(tp.topic, tp.partition, 0) for tp in end_offsets(settings, topic)]
    scales: dict[str, dict[str, Any]] = {}
    serde = AvroSerde(registry_client(settings.registry()))
    for msg in read_to_end(settings, start):
        key = msg.key().decode()
        after = None if msg.value() is None else serde.decode(msg.value())[1]["after"]
        if after is None:
            scales.pop(key, None)
        else:
            scales[key] = {"scale": after["scale"]}
    return scales


def sample_enterprises() -> list[Enterprise]:
    """Consented (0..299), expired/revoked/limited consents (300..311), and none (400..)."""
    people = population(1000, seed=7)
    return people[:40] + people[300:312] + people[400:430]


def test_worker_agrees_with_the_oracle(
    kafka_settings: KafkaSettings, sample_governance: int, worker: WorkerProcess, unique: str
) -> None:
    worker.wait_governance(sample_governance)
    # The governance in force, not the folder: a consent revoked by another test stays so.
    gov = read_current(kafka_settings)
    assert {g.filter for a in gov.agreements.values() for g in a.grants if g.filter} <= set(FILTERS)
    banks = gov.active_banks()
    enterprises = sample_enterprises()
    # Two thirds of the enterprises have a registration (a profile); the rest do not.
    profiled = enterprises[: 2 * len(enterprises) // 3]
    registration = CATALOG.get("market.registration")
    events: dict[str, tuple[str, str, str, dict[str, Any]]] = {}

    bank_topics = sorted(
        {
            names.bank_topic(a.bank, g.category)
            for a in gov.agreements.values()
            if a.status != "terminated"
            for g in a.grants
        }
    )
    bank_starts = ends_of(kafka_settings, bank_topics)
    audit_start = end_offsets(kafka_settings, names.AUDIT)
    with Publisher(agency="market", settings=kafka_settings) as pub:
        for rec in records(registration, profiled, len(profiled), seed=7):
            events[pub.publish(registration.id, "c", rec["uscc"], after=rec)] = (
                registration.id,
                "c",
                rec["uscc"],
                rec,
            )
    audit_until(kafka_settings, audit_start, set(events), timeout=120)
    # What the worker knows now: the latest registration of every enterprise, this run's
    # and earlier runs' (the worker reads the topic from its beginning).
    profiles = latest_scales(kafka_settings)

    by_agency: dict[str, list[Any]] = {}
    for cat in CATALOG:
        if cat.id != registration.id:
            by_agency.setdefault(cat.agency, []).append(cat)
    for agency, cats in by_agency.items():
        with Publisher(agency=agency, settings=kafka_settings) as pub:
            for cat in cats:
                for i, rec in enumerate(
                    records(cat, enterprises, PER_CATEGORY, seed=int(unique, 16) % 997)
                ):
                    op = "d" if i % DELETE_EVERY == DELETE_EVERY - 1 else "c"
                    side = {"before": rec} if op == "d" else {"after": rec}
                    events[pub.publish(cat.id, op, rec["uscc"], **side)] = (
                        cat.id,
                        op,
                        rec["uscc"],
                        rec,
                    )
    assert len(events) > 2000

    audit = audit_until(kafka_settings, audit_start, set(events), timeout=300)
    assert worker.alive()
    per_pair = Counter((a["event_id"], a["bank"]) for a in audit)
    assert set(per_pair) == {(e, b) for e in events for b in banks}, "a decision is missing"
    assert max(per_pair.values()) == 1, "one audit entry per (event, bank)"

    delivered: dict[tuple[str, str], Any] = {}
    tombstones: set[tuple[str, str]] = set()
    for msg in read_to_end(kafka_settings, bank_starts):
        bank = names.BANK_RE.match(msg.topic() or "").group("bank")  # type: ignore[union-attr]
        pair = (header(msg, "ce_id") or "", bank)
        if msg.value() is None:
            tombstones.add(pair)
        else:
            delivered[pair] = msg
    reasons: Counter[str] = Counter()
    mismatches = []
    audit_by_pair = {(a["event_id"], a["bank"]): a for a in audit}
    for event_id, (category, op, uscc, rec) in events.items():
        profile = profiles.get(uscc) if category != registration.id else {"scale": rec["scale"]}
        for bank in banks:
            reason, seen = expect(category, op, uscc, rec, bank, gov, profile)
            reasons[reason] += 1
            pair = (event_id, bank)
            if audit_by_pair[pair]["reason"] != reason:
                said = audit_by_pair[pair]["reason"]
                mismatches.append(f"{category} {op} {bank}: audit {said}, oracle {reason}")
                continue
            if seen is None:
                if pair in delivered:
                    mismatches.append(f"LEAK {category} {bank} {event_id}")
                continue
            if pair not in delivered:
                mismatches.append(f"MISSING {category} {bank} {event_id}")
                continue
            value = decoded(kafka_settings, [delivered[pair]])[0]
            got = value["before"] if op == "d" else value["after"]
            if got != seen:
                mismatches.append(f"CONTENT {category} {bank}: {got} != {seen}")
            if op == "d" and pair not in tombstones:
                mismatches.append(f"NO TOMBSTONE {category} {bank}")
            for field, v in got.items():
                personal = CATALOG.get(category).field(field).sensitivity == "personal"
                if personal and v is not None and v == rec.get(field):
                    mismatches.append(f"UNMASKED personal {category}.{field} to {bank}")
    kinds = Counter(m.split(" ")[0] for m in mismatches)
    assert mismatches == [], f"{len(mismatches)} disagreements {dict(kinds)}, e.g. {mismatches[:5]}"
    # The run exercised what it claims to: deliveries and every kind of denial the sample has.
    assert {
        "delivered",
        "not-entrusted",
        "no-agreement",
        "suspended",
        "no-consent",
        "filtered",
    } <= set(reasons)
    assert reasons["delivered"] > 300
