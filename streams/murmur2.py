"""Kafka's default partitioning of a key, so the bus can say where a key lives.

librdkafka's `murmur2_random` partitioner and the Java client hash keys this way: a
retraction goes to the partition the bank holds the enterprise in, and each audit chain
to one partition of the audit.
"""

from __future__ import annotations


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (as the Java client and librdkafka's murmur2 partitioners)."""
    length = len(data)
    seed, m, r = 0x9747B28C, 0x5BD1E995, 24
    h32 = (seed ^ length) & 0xFFFFFFFF
    for i in range(0, length - length % 4, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h32 = ((h32 * m) & 0xFFFFFFFF) ^ k
    tail = length % 4
    if tail:
        rest = data[length - tail :]
        if tail >= 3:
            h32 ^= rest[2] << 16
        if tail >= 2:
            h32 ^= rest[1] << 8
        h32 ^= rest[0]
        h32 = (h32 * m) & 0xFFFFFFFF
    h32 ^= h32 >> 13
    h32 = (h32 * m) & 0xFFFFFFFF
    h32 ^= h32 >> 15
    return h32


def partition_of(key: bytes, partitions: int) -> int:
    return (murmur2(key) & 0x7FFFFFFF) % partitions
