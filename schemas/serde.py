"""Avro with Confluent framing (magic byte 0, 4-byte schema id) through the registry.

Serializers are callables with a context, as in confluent-kafka: `serde.encode(subject,
schema, value)` and `serde.decode(data)`. Each schema is parsed once and cached by id
(and by subject + text for writers): per-message schema handling is the classic 10x
slowdown of Python Avro pipelines.
"""

from __future__ import annotations

import contextlib
import io
import json
import struct
import threading
from typing import Any

import fastavro
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from schemas.errors import (
    DecodeError,
    RegistryError,
    RegistryUnavailable,
    SchemaError,
    UnknownSchemaError,
)

MAGIC = 0
COMPATIBILITY = "BACKWARD"
_HEADER = struct.Struct(">bI")


def registry_client(conf: dict[str, str]) -> SchemaRegistryClient:
    """A registry client; `mock://<name>` gives confluent-kafka's in-memory one (unit tests)."""
    return SchemaRegistryClient.new_client(conf)


class AvroSerde:
    """Encode and decode framed Avro, registering writer schemas when first used."""

    def __init__(self, registry: SchemaRegistryClient) -> None:
        self.registry = registry
        self._writers: dict[tuple[str, str], tuple[int, Any]] = {}
        self._readers: dict[int, Any] = {}
        self._checked: set[str] = set()
        self._subject_ids: dict[str, frozenset[int]] = {}
        # Writers register one subject at a time each, different subjects at once; a
        # reader is fetched once per schema id, different ids at once.
        self._subject_locks: dict[str, threading.Lock] = {}
        self._id_locks: dict[int, threading.Lock] = {}
        # The highest schema id the registry has shown this process: an id at or below
        # it that the registry says it does not know means the registry is still loading
        # (Apicurio answers while it replays its journal), not that the id is bad.
        self.max_id = 0

    # ---- writing -----------------------------------------------------------------

    def writer(self, subject: str, schema: dict[str, Any]) -> tuple[int, Any]:
        """Register `schema` under `subject` once; return (id, parsed schema)."""
        text = json.dumps(schema, sort_keys=True, ensure_ascii=False)
        key = (subject, text)
        cached = self._writers.get(key)
        if cached is not None:
            return cached
        with self._subject_locks.setdefault(subject, threading.Lock()):
            cached = self._writers.get(key)
            if cached is not None:
                return cached
            parsed = parse_schema(schema)
            try:
                self._backward_if_new(subject)
                schema_id = self.registry.register_schema(subject, Schema(text, "AVRO"))
            except SchemaRegistryError as exc:
                if _transient(exc):
                    raise RegistryUnavailable(f"schema registry failed: {exc}") from exc
                raise RegistryError(f"registry refused {subject}: {exc.error_message}") from exc
            except Exception as exc:
                raise RegistryUnavailable(f"schema registry unreachable: {exc}") from exc
            self._writers[key] = (schema_id, parsed)
            self._readers.setdefault(schema_id, parsed)
            self.max_id = max(self.max_id, schema_id)
            return schema_id, parsed

    def _backward_if_new(self, subject: str) -> None:
        """A subject this bus creates is BACKWARD compatible: the registry does not enforce
        anything unless asked (Apicurio's default is NONE). An existing subject keeps the
        level its operator chose."""
        if subject in self._checked:
            return
        try:
            self.registry.get_versions(subject)
        except SchemaRegistryError as exc:
            if exc.http_status_code != 404:
                raise
            try:
                self.registry.set_compatibility(subject_name=subject, level=COMPATIBILITY)
            except SchemaRegistryError as conflict:
                # 409: the subject has a level already (another writer's, or one a
                # registry still replaying its journal had not shown yet): it keeps it.
                if conflict.http_status_code != 409:
                    raise
        self._checked.add(subject)

    def encode(self, subject: str, schema: dict[str, Any], value: dict[str, Any]) -> bytes:
        schema_id, parsed = self.writer(subject, schema)
        return encode_with(schema_id, parsed, value)

    # ---- reading -----------------------------------------------------------------

    def reader(self, schema_id: int) -> Any:
        parsed = self._readers.get(schema_id)
        if parsed is not None:
            return parsed
        with self._id_locks.setdefault(schema_id, threading.Lock()):
            parsed = self._readers.get(schema_id)
            if parsed is not None:
                return parsed
            try:
                registered = self.registry.get_schema(schema_id)
            except SchemaRegistryError as exc:
                if _transient(exc):
                    raise RegistryUnavailable(f"schema registry failed: {exc}") from exc
                raise UnknownSchemaError(f"schema id {schema_id} unknown to the registry") from exc
            except Exception as exc:
                raise RegistryUnavailable(f"schema registry unreachable: {exc}") from exc
            parsed = parse_schema(json.loads(registered.schema_str or "{}"))
            self._readers[schema_id] = parsed
            self.max_id = max(self.max_id, schema_id)
            return parsed

    def decode(self, data: bytes | None) -> tuple[int, dict[str, Any]]:
        """Return (schema id, value) of framed Avro bytes; DecodeError when they are not."""
        if data is None:
            raise DecodeError("no value (tombstone)")
        schema_id = frame_id(data)
        parsed = self.reader(schema_id)
        try:
            value = fastavro.schemaless_reader(io.BytesIO(data[_HEADER.size :]), parsed, None)
        except Exception as exc:
            raise DecodeError(f"bytes do not match schema id {schema_id}: {exc!r}") from exc
        if not isinstance(value, dict):
            raise DecodeError(f"schema id {schema_id} is not a record schema")
        return schema_id, value

    def subject_ids(self, subject: str, refresh: bool = False) -> frozenset[int]:
        """The schema ids of every version of `subject` (cached; `refresh` asks again)."""
        cached = self._subject_ids.get(subject)
        if cached is not None and not refresh:
            return cached
        try:
            versions = self.registry.get_versions(subject)
            found = [self.registry.get_version(subject, v) for v in versions]
            ids = frozenset(r.schema_id for r in found if r.schema_id is not None)
        except SchemaRegistryError as exc:
            if _transient(exc):
                raise RegistryUnavailable(f"schema registry failed: {exc}") from exc
            ids = frozenset()  # no such subject: no id belongs to it
        except Exception as exc:
            raise RegistryUnavailable(f"schema registry unreachable: {exc}") from exc
        self._subject_ids[subject] = ids
        self.max_id = max(self.max_id, *ids, 0)
        for registered in found if ids else []:
            # The versions come with their schemas: no second request per id to read them.
            text = registered.schema.schema_str if registered.schema else None
            known = registered.schema_id
            if known is not None and text and known not in self._readers:
                with contextlib.suppress(SchemaError, ValueError):
                    self._readers[known] = parse_schema(json.loads(text))
        return ids

    def belongs(self, schema_id: int, subject: str) -> bool:
        """Whether `schema_id` is a version of `subject`: a record framed with another
        category's schema must not be read as this topic's category."""
        if schema_id in self.subject_ids(subject):
            return True
        return schema_id in self.subject_ids(subject, refresh=True)


def _transient(exc: SchemaRegistryError) -> bool:
    """A 5xx (or no status: the request failed) is the registry's trouble, not the data's."""
    status = exc.http_status_code
    return status is None or status < 0 or status >= 500 or status == 429


def frame_id(data: bytes) -> int:
    """The schema id of Confluent-framed bytes, or DecodeError."""
    if len(data) < _HEADER.size:
        raise DecodeError(f"{len(data)} bytes are too short for Confluent framing")
    magic, schema_id = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise DecodeError(f"magic byte {magic} is not Confluent framing (0)")
    return int(schema_id)


def parse_schema(schema: dict[str, Any]) -> Any:
    try:
        return fastavro.parse_schema(schema)
    except Exception as exc:
        raise SchemaError(f"invalid Avro schema {schema.get('name', '?')}: {exc}") from exc


def encode_with(schema_id: int, parsed: Any, value: dict[str, Any]) -> bytes:
    out = io.BytesIO()
    out.write(_HEADER.pack(MAGIC, schema_id))
    try:
        fastavro.schemaless_writer(out, parsed, value)
    except Exception as exc:
        raise SchemaError(f"record does not match its schema: {exc}") from exc
    return out.getvalue()
