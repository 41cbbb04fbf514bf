"""Reading an agency's export: JSON lines or CSV, from a file or stdin, in any
ASCII-compatible encoding (agency exports are often GB18030 or GBK).

Each input line becomes a `Line`: its number and text, and either the event to publish
or the reason it cannot be. A bad line — undecodable bytes, broken JSON, a value that
does not fit its field — never stops the others.
"""

from __future__ import annotations

import codecs
import csv
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from foundation.errors import UsageError
from producers.coerce import coerce_record
from producers.errors import PublishError
from producers.ids import check_given_id
from schemas.catalog import Category
from schemas.envelope import OPS

ENVELOPE_KEYS = {"op", "before", "after"}
# A line's own event id (the agency system's change id), in either form of a line and as
# a CSV column; no category has a field of that name.
EVENT_ID = "event_id"
FORMATS = ("jsonl", "csv")
# What a rejects file keeps of a line: enough to find and fix it, never megabytes.
TEXT_LIMIT = 2000


@dataclass(frozen=True)
class Pending:
    op: str
    uscc: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    event_id: str | None = None


@dataclass(frozen=True)
class Line:
    number: int
    text: str
    event: Pending | None
    problem: str | None


def detect_format(path: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    return "csv" if path.lower().endswith(".csv") else "jsonl"


def check_encoding(encoding: str) -> str:
    """The codec's canonical name; UsageError for one that is unknown or splits lines
    differently from ASCII (UTF-16, UTF-32)."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise UsageError(f"unknown encoding '{encoding}': use utf-8, gb18030 or gbk") from None
    if "\n".encode(name) != b"\n":
        raise UsageError(f"encoding '{encoding}' is not line-compatible with ASCII")
    return name


def open_input(path: str) -> BinaryIO:
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as exc:
        raise PublishError(f"cannot read {path}: {exc.strerror}") from exc


def read_lines(
    stream: BinaryIO, fmt: str, cat: Category, default_op: str, encoding: str = "utf-8"
) -> Iterator[Line]:
    texts = _decoded(stream, check_encoding(encoding))
    if fmt == "csv":
        yield from _csv_lines(texts, cat, default_op)
    elif fmt == "jsonl":
        yield from _jsonl_lines(texts, cat, default_op)
    else:
        raise UsageError(f"unknown input format '{fmt}': use jsonl or csv")


def shown(text: str) -> str:
    """A line as a rejects file keeps it: cut after TEXT_LIMIT characters."""
    if len(text) <= TEXT_LIMIT:
        return text
    return f"{text[:TEXT_LIMIT]}... (cut: the line has {len(text):,} characters)"


def _decoded(stream: BinaryIO, encoding: str) -> Iterator[tuple[int, str, str | None]]:
    """(number, text, problem) per physical line; problem says where decoding failed."""
    for number, raw in enumerate(stream, start=1):
        if number == 1 and encoding == "utf-8" and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield number, raw.decode(encoding), None
        except UnicodeDecodeError as exc:
            text = raw.decode(encoding, "replace")
            bad = raw[exc.start : exc.end].hex(" ")
            yield number, text, f"not valid {encoding}: bytes {bad} at byte {exc.start + 1}"


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a record may hold")


def _jsonl_lines(
    texts: Iterable[tuple[int, str, str | None]], cat: Category, default_op: str
) -> Iterator[Line]:
    for number, text, undecodable in texts:
        text = text.rstrip("\r\n")
        if undecodable:
            yield Line(number, shown(text), None, undecodable)
            continue
        if not text.strip():
            continue
        try:
            # Decimal keeps every digit of an amount; NaN and Infinity are refused.
            raw = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            yield Line(
                number, shown(text), None, f"not valid JSON: {exc.msg} at column {exc.colno}"
            )
            continue
        except (ValueError, RecursionError) as exc:
            yield Line(number, shown(text), None, f"not valid JSON: {str(exc)[:200]}")
            continue
        if not isinstance(raw, dict):
            yield Line(
                number,
                shown(text),
                None,
                f"a line must be a JSON object, got {type(raw).__name__}",
            )
            continue
        yield _to_line(number, shown(text), raw, cat, default_op, from_csv=False)


def _csv_lines(
    texts: Iterable[tuple[int, str, str | None]], cat: Category, default_op: str
) -> Iterator[Line]:
    # A quoted CSV value may span lines: a row is bad when any of its lines was.
    undecodable: dict[int, str] = {}

    def text_lines() -> Iterator[str]:
        for number, text, problem in texts:
            if problem:
                undecodable[number] = problem
            yield text

    try:
        reader = csv.DictReader(text_lines())
        header = reader.fieldnames or []
    except csv.Error as exc:
        yield Line(1, "", None, f"not valid CSV: {exc}")
        return
    if 1 in undecodable:
        yield Line(1, shown(",".join(header)), None, f"header {undecodable[1]}")
        return
    missing = [f.name for f in cat.fields if not f.optional and f.name not in header]
    unknown = [c for c in header if c not in cat.field_names and c not in ("op", EVENT_ID)]
    first = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Line(reader.line_num, "", None, f"not valid CSV: {exc}")
            first = reader.line_num + 1
            continue
        number = reader.line_num
        text = shown(",".join(str(row.get(c) or "") for c in header))
        bad = [undecodable[n] for n in range(first, number + 1) if n in undecodable]
        first = number + 1
        if bad:
            yield Line(number, text, None, bad[0])
            continue
        if missing:
            yield Line(number, text, None, f"missing column(s): {', '.join(missing)}")
            continue
        if unknown:
            yield Line(number, text, None, f"{cat.id} has no field {', '.join(unknown)}")
            continue
        if None in row:
            yield Line(number, text, None, "more values than columns")
            continue
        op = row.pop("op", None) or default_op
        given = row.pop(EVENT_ID, None) or None
        record = {k: v for k, v in row.items() if v is not None}
        raw = {"op": op, "after": record, EVENT_ID: given}
        yield _to_line(number, text, raw, cat, default_op, from_csv=True)


def _to_line(
    number: int, text: str, raw: dict[str, Any], cat: Category, default_op: str, from_csv: bool
) -> Line:
    try:
        raw = dict(raw)
        given = raw.pop(EVENT_ID, None)
        if given is not None:
            given = check_given_id(given)
        if ENVELOPE_KEYS & raw.keys():
            op = raw.get("op") or default_op
            before, after = raw.get("before"), raw.get("after")
        else:
            op, before, after = default_op, None, raw
        if op not in OPS:
            raise PublishError(f"op must be one of {', '.join(OPS)}, got {op!r}")
        if op == "d" and before is None:
            before, after = after, None
        if before is not None:
            before = coerce_record(cat, before, from_csv=from_csv, where="before")
        if after is not None:
            after = coerce_record(cat, after, from_csv=from_csv, where="after")
        record = after if after is not None else before
        uscc = (record or {}).get("uscc")
        if not isinstance(uscc, str):
            raise PublishError("uscc: required field is missing")
        return Line(number, text, Pending(op, uscc, before, after, given), None)
    except (PublishError, ValueError) as exc:
        return Line(number, text, None, str(exc))


def rejects_path(path: str) -> Path:
    """Where rejected lines go: next to the input (`<input>.rejects.jsonl`)."""
    if path == "-":
        return Path("stdin.rejects.jsonl")
    return Path(path).with_name(Path(path).name + ".rejects.jsonl")
