"""Retractions go to the partition the bank holds the enterprise in: Kafka's murmur2."""

from __future__ import annotations

from streams.murmur2 import murmur2, partition_of


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
