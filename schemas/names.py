"""Topic and subject names, the one place that spells them.

Kafka warns that `.` and `_` collide in metric names, so names use `.` between parts
and `-` inside words, never `_`.
"""

from __future__ import annotations

import re

SOURCE_PREFIX = "pub."
BANK_PREFIX = "bank."
ENTRUSTMENTS = "sharebus.entrustments"
AGREEMENTS = "sharebus.agreements"
CONSENTS = "sharebus.consents"
PARTIES = "sharebus.parties"
GOVERNANCE_LOG = "sharebus.governance-log"
GOVERNANCE_TOPICS = (PARTIES, ENTRUSTMENTS, AGREEMENTS, CONSENTS, GOVERNANCE_LOG)
AUDIT = "sharebus.audit"
DLQ = "sharebus.dlq"
DLQ_REPLAYS = "sharebus.dlq-replays"

_WORD = r"[a-z][a-z0-9-]*"
CATEGORY_RE = re.compile(rf"^(?P<agency>{_WORD})\.(?P<dataset>{_WORD})$")
SOURCE_RE = re.compile(rf"^pub\.(?P<category>{_WORD}\.{_WORD})$")
BANK_RE = re.compile(rf"^bank\.(?P<bank>{_WORD})\.(?P<category>{_WORD}\.{_WORD})$")


def source_topic(category: str) -> str:
    """`tax.payment-record` -> `pub.tax.payment-record`."""
    return f"{SOURCE_PREFIX}{category}"


def bank_topic(bank: str, category: str) -> str:
    """(`ccb`, `tax.payment-record`) -> `bank.ccb.tax.payment-record`."""
    return f"{BANK_PREFIX}{bank}.{category}"


def value_subject(topic: str) -> str:
    """TopicNameStrategy: the registry subject of a topic's values."""
    return f"{topic}-value"


def category_of_source(topic: str) -> str | None:
    """The category a source topic carries, or None when the name is not one."""
    match = SOURCE_RE.match(topic)
    return match.group("category") if match else None


def avro_name(word: str) -> str:
    """A topic word as an Avro name part: `payment-record` -> `payment_record`."""
    return word.replace("-", "_")
