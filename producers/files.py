"""Reading an agency's export: JSON lines or CSV, from a file or stdin.

Each input line becomes a `Line`: its number and text, and either the event to publish
or the reason it cannot be. A bad line never stops the others.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from producers.coerce import coerce_record
from producers.errors import PublishError
from schemas.catalog import Category
from schemas.envelope import OPS

ENVELOPE_KEYS = {"op", "before", "after"}


@dataclass(frozen=True)
class Pending:
    op: str
    uscc: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


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


def open_input(path: str) -> TextIO:
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig")
    try:
        return open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise PublishError(f"cannot read {path}: {exc.strerror}") from exc


def read_lines(stream: TextIO, fmt: str, cat: Category, default_op: str) -> Iterator[Line]:
    if fmt == "csv":
        yield from _csv_lines(stream, cat, default_op)
    elif fmt == "jsonl":
        yield from _jsonl_lines(stream, cat, default_op)
    else:
        raise PublishError(f"unknown input format '{fmt}': use jsonl or csv")


def _jsonl_lines(stream: TextIO, cat: Category, default_op: str) -> Iterator[Line]:
    for number, text in enumerate(stream, start=1):
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Line(number, text, None, f"not valid JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(raw, dict):
            yield Line(
                number, text, None, f"a line must be a JSON object, got {type(raw).__name__}"
            )
            continue
        yield _to_line(number, text, raw, cat, default_op, from_csv=False)


def _csv_lines(stream: TextIO, cat: Category, default_op: str) -> Iterator[Line]:
    reader = csv.DictReader(stream)
    header = reader.fieldnames or []
    missing = [f.name for f in cat.fields if not f.optional and f.name not in header]
    unknown = [c for c in header if c not in cat.field_names and c != "op"]
    for row in reader:
        number = reader.line_num
        text = ",".join(row.get(c) or "" for c in header)
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
        record = {k: v for k, v in row.items() if v is not None}
        yield _to_line(number, text, {"op": op, "after": record}, cat, default_op, from_csv=True)


def _to_line(
    number: int, text: str, raw: dict[str, Any], cat: Category, default_op: str, from_csv: bool
) -> Line:
    try:
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
        return Line(number, text, Pending(op, uscc, before, after), None)
    except PublishError as exc:
        return Line(number, text, None, str(exc))


def rejects_path(path: str) -> Path:
    """Where rejected lines go: next to the input (`<input>.rejects.jsonl`)."""
    if path == "-":
        return Path("stdin.rejects.jsonl")
    return Path(path).with_name(Path(path).name + ".rejects.jsonl")
