"""Retractions go to the partition the bank holds the enterprise in (Kafka's murmur2), and
an agreement's end retracts only where its grant says so."""

from __future__ import annotations

from datetime import UTC, datetime

from governance.models import Agreement, Governance
from streams.murmur2 import murmur2, partition_of
from streams.retraction import ended_retracting


def signed(value: int) -> int:
    return value - (1 << 32) if value >= 1 << 31 else value


def test_murmur2_matches_kafkas_own_test_vectors() -> None:
    # The values Kafka's Java client is tested against (UtilsTest.testMurmur2).
    vectors = {
        b"21": -973932308,
        b"foobar": -790332482,
        b"a-little-bit-long-string": -985981536,
        b"a-little-bit-longer-string": -1486304829,
        b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
        b"abc": 479470107,
    }
    for data, expected in vectors.items():
        assert signed(murmur2(data)) == expected, data


def test_partition_is_the_positive_hash_modulo_the_count() -> None:
    for key in (b"91310107MAMJ87NT02", b"913101160293861626", b"x"):
        assert partition_of(key, 3) == (murmur2(key) & 0x7FFFFFFF) % 3
        assert 0 <= partition_of(key, 7) < 7


AGREEMENT = {
    "id": "a-1",
    "bank": "bocom",
    "purpose": "p",
    "effective_from": "2026-01-01T00:00:00Z",
    "effective_until": "2027-01-01T00:00:00Z",
}
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def agreement(on_end: str = "retract", **changes: object) -> Agreement:
    grant = {"category": "stc.rd-grant", "fields": ["uscc"], "on_end": on_end}
    return Agreement.model_validate({**AGREEMENT, "grants": [grant], **changes})


def retracting(*agreements: Agreement, now: datetime = NOW) -> list[str]:
    gov = Governance(agreements={a.id: a for a in agreements})
    return [a.id for a, _ in ended_retracting(gov, now)]


def test_an_agreement_ends_when_terminated_or_past_its_window_not_when_suspended() -> None:
    assert retracting(agreement()) == []
    assert retracting(agreement(status="terminated")) == ["a-1"]
    assert retracting(agreement(), now=datetime(2027, 1, 1, tzinfo=UTC)) == ["a-1"]
    assert retracting(agreement(status="suspended")) == []


def test_only_grants_that_say_retract_and_keep_is_the_default() -> None:
    assert retracting(agreement("keep", status="terminated")) == []
    grant = {"category": "stc.rd-grant", "fields": ["uscc"]}
    default = Agreement.model_validate({**AGREEMENT, "grants": [grant], "status": "terminated"})
    assert default.grants[0].on_end == "keep"
    assert retracting(default) == []


def test_a_category_another_agreement_in_force_grants_is_not_retracted() -> None:
    old = agreement(status="terminated")
    renewed = agreement("keep", id="a-2", effective_until="2028-01-01T00:00:00Z")
    assert retracting(old, renewed) == []
    other_bank = agreement("keep", id="a-3", bank="ccb")
    assert retracting(old, other_bank) == ["a-1"]
