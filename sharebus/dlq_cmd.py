"""`sharebus dlq list | replay`: the dead letters, by reason, and sending them back.

A dead letter keeps the original key, bytes and headers, plus why (`sharebus_dlq_reason`),
where from (`sharebus_dlq_topic`) and at which position (`sharebus_source`). Once its
cause is fixed (a schema registered, a publisher corrected), `replay` sends it back to
its source topic. Each replay is recorded on `sharebus.dlq-replays` (compacted, keyed by
the dead letter's own position) in the same transaction as the record it sends, so a
dead letter is replayed once, however often `replay` runs.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from confluent_kafka import (
    KafkaException,
    Message,
    Producer,
)
from rich.console import Console

from foundation import headers as h
from foundation.errors import SharebusError
from foundation.probe import require
from foundation.reading import TopicMissingError, read_to_end
from foundation.settings import KafkaSettings, get_kafka_settings
from schemas import names
from sharebus.cli_common import friendly

dlq_app = typer.Typer(help="Dead letters: list them by reason, replay them.", no_args_is_help=True)
out = Console(soft_wrap=True)
REPLAYED_OF = "sharebus_replay_of"


@dataclass(frozen=True)
class DeadLetter:
    position: str  # its own, on sharebus.dlq
    topic: str  # the source topic it came from
    reason: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    @property
    def replay_of(self) -> str | None:
        """The dead letter this one is a replay of, when a replay failed again."""
        for key, value in self.headers:
            if key == REPLAYED_OF:
                return value.decode("utf-8", "replace")
        return None

    @property
    def kind(self) -> str:
        """The reason without its details: `undecodable`, `wrong schema`, ..."""
        return self.reason.split(":", 1)[0]


def _read(settings: KafkaSettings, topic: str) -> list[Message]:
    """Every message of `topic`, from its beginning to its end as it is now."""
    try:
        found = read_to_end(
            settings.librdkafka(), topic, "sharebus-dlq-reader", principal=settings.principal
        )
        return list(found)
    except TopicMissingError:
        return []  # no dead letter, or nothing replayed, yet
    except KafkaException as exc:
        raise SharebusError(f"reading {topic} failed: {exc.args[0].str()}") from exc


def dead_letters(settings: KafkaSettings) -> list[DeadLetter]:
    letters = []
    for msg in _read(settings, names.DLQ):
        raw: list[tuple[str, Any]] = list(msg.headers() or [])  # type: ignore[arg-type]
        text = h.as_dict(raw)
        letters.append(
            DeadLetter(
                position=h.position(names.DLQ, msg.partition() or 0, msg.offset() or 0),
                topic=text.get(h.DLQ_TOPIC, ""),
                reason=text.get(h.DLQ_REASON, ""),
                key=msg.key(),
                value=msg.value(),
                headers=[(k, v) for k, v in raw if isinstance(v, bytes)],
            )
        )
    return letters


def _matching(
    letters: list[DeadLetter], reason: str | None, topic: str | None, key: str | None
) -> list[DeadLetter]:
    return [
        d
        for d in letters
        if (reason is None or reason in d.reason)
        and (topic is None or d.topic == topic)
        and (key is None or d.key == key.encode())
    ]


ReasonOpt = Annotated[str | None, typer.Option(help="only reasons containing this text")]
TopicOpt = Annotated[str | None, typer.Option(help="only dead letters from this source topic")]
KeyOpt = Annotated[str | None, typer.Option(help="only dead letters of this key (an enterprise)")]


@dlq_app.command("list")
@friendly
def list_cmd(
    reason: ReasonOpt = None,
    topic: TopicOpt = None,
    key: KeyOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON line per dead letter")] = False,
) -> None:
    """Count the dead letters by source topic and kind of reason, or list each with --json."""
    settings = get_kafka_settings()
    require(kafka=True, settings=settings)  # a broker that does not answer, in one line
    letters = _matching(dead_letters(settings), reason, topic, key)
    replayed = _replayed(settings)
    if as_json:
        for d in letters:
            row = {
                "position": d.position,
                "topic": d.topic,
                "reason": d.reason,
                "key": d.key.decode("utf-8", "replace") if d.key else None,
                "replayed": d.position in replayed,
                "replay_of": d.replay_of,
            }
            print(json.dumps(row, ensure_ascii=False))
        return
    counts = Counter((d.topic, d.kind) for d in letters)
    for (source, kind), count in sorted(counts.items()):
        out.print(f"{count:>7}  {source}  {kind}", highlight=False)
    waiting = sum(1 for d in letters if d.position not in replayed)
    out.print(
        f"{len(letters)} dead letter(s), {len(letters) - waiting} replayed, {waiting} not",
        highlight=False,
    )


@dlq_app.command("replay")
@friendly
def replay_cmd(
    reason: ReasonOpt = None,
    topic: TopicOpt = None,
    key: KeyOpt = None,
    again: Annotated[
        bool, typer.Option("--again", help="also dead letters of a replay that failed again")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="say what would be sent")] = False,
) -> None:
    """Send dead letters back to their source topic, each once (never one replayed before).

    A replay that fails again comes back as a new dead letter; it is sent again only with
    --again, so that two replays never chase each other."""
    settings = get_kafka_settings()
    require(kafka=True, settings=settings)  # a broker that does not answer, in one line
    replayed = _replayed(settings)
    letters = [
        d
        for d in _matching(dead_letters(settings), reason, topic, key)
        if d.position not in replayed
        and d.topic.startswith(names.SOURCE_PREFIX)
        and (again or d.replay_of is None)
    ]
    if dry_run or not letters:
        for d in letters:
            out.print(f"would replay {d.position} to {d.topic}: {d.reason}", highlight=False)
        out.print(f"{len(letters)} dead letter(s) to replay", highlight=False)
        return
    producer = Producer(
        {
            **settings.librdkafka(),
            "transactional.id": f"sharebus-dlq-replay-{uuid.uuid4().hex[:8]}",
            "enable.idempotence": True,
            "acks": "all",
            "partitioner": "murmur2_random",
        }
    )
    dropped = {h.DLQ_REASON, h.DLQ_TOPIC, h.SOURCE_POSITION}
    try:
        producer.init_transactions(30)
        producer.begin_transaction()
        for d in letters:
            kept = [(k, v) for k, v in d.headers if k not in dropped]
            producer.produce(
                d.topic,
                key=d.key,
                value=d.value,
                headers=[*kept, (REPLAYED_OF, d.position.encode())],
            )
            producer.produce(names.DLQ_REPLAYS, key=d.position.encode(), value=d.topic.encode())
            producer.poll(0)
        producer.commit_transaction(60)
    except KafkaException as exc:
        raise SharebusError(f"replay not written (none of it): {exc.args[0].str()}") from exc
    out.print(f"replayed {len(letters)} dead letter(s) to their source topics", highlight=False)


def _replayed(settings: KafkaSettings) -> set[str]:
    keys = (msg.key() for msg in _read(settings, names.DLQ_REPLAYS))
    return {key.decode() for key in keys if key is not None}
