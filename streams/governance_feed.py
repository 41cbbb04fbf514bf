"""Every worker's full view of governance, kept from the governance topics.

An apply is one version: its records and, last, a `VersionMark` naming the offsets its
records landed at, all in one Kafka transaction (read_committed: an aborted apply is
never seen). Records arrive on several topics and partitions, in no common order, so
they wait here until the mark of their version has been read and every partition has
been read past the offsets it names; only then does the version come into force, whole.
The decision always reads one immutable `Governance` snapshot of one version.

A tombstone written by hand (deleting a record outside `apply`) takes effect at once:
removing a record can only narrow what banks receive.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from confluent_kafka import Message

from governance import codec
from governance.models import (
    Agency,
    Agreement,
    Bank,
    Consent,
    ConsentEvent,
    Entrustment,
    Governance,
    VersionMark,
    fold_consent,
)
from schemas import names
from streams.feed import CompactedFeed

log = logging.getLogger("sharebus.governance")


@dataclass(frozen=True)
class _Pending:
    topic: str
    key: str
    record: codec.Stored
    version: int


class GovernanceState:
    """The records in force, by topic and key, and the fold of the consent ledger."""

    def __init__(self) -> None:
        self.records: dict[str, dict[str, Agreement | Entrustment | Bank | Agency]] = {}
        self.consents: dict[str, Consent] = {}
        self.grants: dict[str, ConsentEvent] = {}
        self.grant_ids: set[str] = set()

    def take(self, topic: str, key: str, record: codec.Stored) -> None:
        if isinstance(record, ConsentEvent):
            folded = fold_consent(self.consents.get(key), record)
            if folded is None:
                self.consents.pop(key, None)
            else:
                self.consents[key] = folded
            if record.action == "grant":
                self.grants[key] = record
                self.grant_ids.add(record.grant_id)
        elif not isinstance(record, VersionMark):
            self.records.setdefault(topic, {})[key] = record

    def forget(self, topic: str, key: str) -> bool:
        if topic == names.CONSENTS:
            self.grants.pop(key, None)
            return self.consents.pop(key, None) is not None
        return self.records.get(topic, {}).pop(key, None) is not None

    def snapshot(self, version: int) -> Governance:
        def table(topic: str, kind: type[Any]) -> dict[str, Any]:
            return {r.key: r for r in self.records.get(topic, {}).values() if isinstance(r, kind)}

        return Governance(
            entrustments=table(names.ENTRUSTMENTS, Entrustment),
            agreements=table(names.AGREEMENTS, Agreement),
            consents=dict(self.consents),
            version=version,
            banks=table(names.PARTIES, Bank),
            agencies=table(names.PARTIES, Agency),
            consent_grants=dict(self.grants),
            grant_ids=frozenset(self.grant_ids),
        )


class GovernanceFeed(CompactedFeed):
    """Reads the governance topics into `self.current` until `stop()`."""

    name = "governance-feed"

    def __init__(self, kafka_conf: dict[str, Any], poll: float = 0.1) -> None:
        # read_committed: the records of an aborted apply are never seen.
        conf = {**kafka_conf, "isolation.level": "read_committed"}
        super().__init__(conf, list(names.GOVERNANCE_TOPICS), poll)
        self._state = GovernanceState()
        self._pending: list[_Pending] = []
        self._marks: dict[int, VersionMark] = {}
        self._read_to: dict[str, int] = {}
        self._dirty = False
        self.mark: VersionMark | None = None
        self.current = Governance()
        # Consent revocations that came into force while this feed runs: the worker
        # retracts them. Those found on reading the ledger from its start are kept apart
        # (`earlier_revocations`): the worker retracts only what a bank still holds of them
        # (a revocation while no worker ran), not every revocation ever made again.
        self._revocations: list[tuple[ConsentEvent, int]] = []
        self._revocations_lock = threading.Lock()
        self.earlier_revocations: list[tuple[ConsentEvent, int]] = []

    def take_revocations(self) -> list[tuple[ConsentEvent, int]]:
        with self._revocations_lock:
            taken, self._revocations = self._revocations, []
        return taken

    def give_back(self, revocations: list[tuple[ConsentEvent, int]]) -> None:
        with self._revocations_lock:
            self._revocations[:0] = revocations

    def apply(self, msg: Message) -> bool:
        topic, partition, offset = msg.topic() or "", msg.partition() or 0, msg.offset() or 0
        self._read_to[f"{topic}/{partition}"] = offset + 1
        key = msg.key()
        if key is None:
            return True
        name = key.decode()
        value = msg.value()
        if value is None:
            self._dirty |= self._state.forget(topic, name)
            return True
        try:
            record, version = codec.decode(value)
        except ValueError as exc:
            # Only `sharebus governance apply` writes here, after validating: say so loudly.
            log.error("unreadable governance record %s/%s ignored: %s", topic, name, exc)
            return True
        if isinstance(record, VersionMark):
            if record.version > (self.mark.version if self.mark else 0):
                self._marks[record.version] = record
        elif self.mark is not None and version <= self.mark.version:
            # Part of a version already in force (its mark was read first).
            self._state.take(topic, name, record)
            self._dirty = True
        else:
            self._pending.append(_Pending(topic, name, record, version))
        return True

    def at_end(self, topic: str, partition: int, offset: int) -> bool:
        where = f"{topic}/{partition}"
        if offset > self._read_to.get(where, 0):
            self._read_to[where] = offset
            return True
        return False

    def after_batch(self, changed: bool) -> None:
        for version in sorted(self._marks):
            mark = self._marks[version]
            if not all(self._read_to.get(p, 0) > o for p, o in mark.offsets.items()):
                break  # versions come into force in order
            del self._marks[version]
            waiting = []
            live = self.ready.is_set()
            for p in self._pending:
                if p.version <= version:
                    self._state.take(p.topic, p.key, p.record)
                    revoked = isinstance(p.record, ConsentEvent) and p.record.action == "revoke"
                    if revoked and live:
                        with self._revocations_lock:
                            self._revocations.append((p.record, version))  # type: ignore[arg-type]
                    elif revoked:
                        self.earlier_revocations.append((p.record, version))  # type: ignore[arg-type]
                else:
                    waiting.append(p)
            self._pending = waiting
            self.mark = mark
            self._dirty = True
        if self._dirty or not self.ready.is_set():
            version = self.mark.version if self.mark else 0
            self.current = self._state.snapshot(version)
            self._dirty = False
            log.info("governance version %s in force", version)
