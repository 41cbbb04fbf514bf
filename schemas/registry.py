"""The catalog in the schema registry: register every envelope, or check that it could be.

Subjects follow TopicNameStrategy (`<topic>-value`) and are made BACKWARD compatible
explicitly: neither Apicurio nor Confluent's registry enforces a level on a subject
unless it is asked to (Apicurio's default global level is NONE).

Only the Confluent API is used to register and to test. It answers "not compatible"
with reasons when asked `verbose=true`; Apicurio's ccompat layer drops them, so for it
the reason comes from a dry run of the same rule through its own API, which stores
nothing.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from schemas.catalog import Catalog, Category
from schemas.errors import RegistryError
from schemas.serde import COMPATIBILITY

# Subjects registered at once: the registry answers each call in tens of milliseconds.
REGISTER_CONCURRENCY = 8
_SUBJECT_NOT_FOUND = 40401
_SCHEMA_NOT_FOUND = 40403
_JAVA_PREFIX = re.compile(r"^[\w.$]+(Exception|Error): ")


@dataclass(frozen=True)
class Registered:
    subject: str
    schema_id: int
    new: bool


@dataclass(frozen=True)
class Problem:
    subject: str
    reason: str


def schema_of(category: Category) -> Schema:
    """The envelope as the registry stores it.

    The same text `AvroSerde` registers, so the first publish finds this version instead
    of adding one.
    """
    text = json.dumps(category.envelope(), sort_keys=True, ensure_ascii=False)
    return Schema(text, "AVRO")


def registered_subjects(catalog: Catalog, client: SchemaRegistryClient) -> list[str]:
    """The catalog's subjects that the registry already has."""
    have = set(_call(client, "listing subjects", client.get_subjects))
    return [c.subject for c in catalog if c.subject in have]


def register_all(catalog: Catalog, client: SchemaRegistryClient) -> list[Registered]:
    """Make every subject BACKWARD compatible, then register its envelope.

    Subjects go to the registry a few at a time (four calls each; 300 categories one by one
    took half a minute). Raises RegistryError for the first subject, in catalog order, that
    the registry refuses (`check_all` says why for every subject without registering).
    """
    with ThreadPoolExecutor(max_workers=REGISTER_CONCURRENCY) as pool:
        futures = [pool.submit(_register_one, client, category) for category in catalog]
        return [f.result() for f in futures]


def _register_one(client: SchemaRegistryClient, category: Category) -> Registered:
    subject, schema = category.subject, schema_of(category)
    _call(client, subject, client.set_compatibility, subject, COMPATIBILITY)
    level = _call(client, subject, client.get_compatibility, subject)
    if level != COMPATIBILITY:
        raise RegistryError(f"registry keeps {subject} at {level}, not {COMPATIBILITY}")
    existing = _lookup(client, subject, schema)
    if existing is not None:
        return Registered(subject, existing, new=False)
    schema_id = _call(client, subject, client.register_schema, subject, schema)
    return Registered(subject, schema_id, new=True)


def check_all(catalog: Catalog, client: SchemaRegistryClient) -> list[Problem]:
    """For every subject already registered: could the local envelope be its next version?"""
    subjects = set(registered_subjects(catalog, client))
    problems = []
    with _Rest(client) as rest:
        for category in catalog:
            if category.subject in subjects:
                reason = rest.incompatibility(category.subject, schema_of(category))
                if reason is not None:
                    problems.append(Problem(category.subject, reason))
    return problems


def _lookup(client: SchemaRegistryClient, subject: str, schema: Schema) -> int | None:
    try:
        found = client.lookup_schema(subject, schema)
    except SchemaRegistryError as exc:
        if exc.error_code in (_SUBJECT_NOT_FOUND, _SCHEMA_NOT_FOUND):
            return None
        raise RegistryError(f"registry refused {subject}: {_message(exc)}") from exc
    except Exception as exc:
        raise _unreachable(client, exc) from exc
    return found.schema_id


def _call(client: SchemaRegistryClient, what: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except SchemaRegistryError as exc:
        raise RegistryError(f"registry refused {what}: {_message(exc)}") from exc
    except Exception as exc:
        raise _unreachable(client, exc) from exc


def _message(exc: SchemaRegistryError) -> str:
    return _JAVA_PREFIX.sub("", str(exc.error_message)).strip()


def _unreachable(client: SchemaRegistryClient, exc: Exception) -> RegistryError:
    url = client.config().get("url", "?")
    return RegistryError(f"schema registry unreachable at {url}: {str(exc) or type(exc).__name__}")


class _Rest:
    """Plain HTTP for the answers SchemaRegistryClient does not pass on."""

    def __init__(self, client: SchemaRegistryClient) -> None:
        conf = client.config()
        self.client = client
        self.base = str(conf["url"]).split(",")[0].rstrip("/")
        user_info = conf.get("basic.auth.user.info")
        auth = tuple(user_info.split(":", 1)) if user_info else None
        self.http = httpx.Client(auth=auth, timeout=10.0)

    def __enter__(self) -> _Rest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def incompatibility(self, subject: str, schema: Schema) -> str | None:
        """None when compatible with the latest version, else the registry's reason."""
        url = f"{self.base}/compatibility/subjects/{quote(subject, safe='')}/versions/latest"
        body = {"schema": schema.schema_str, "schemaType": "AVRO"}
        answer = self._post(url, body, {"verbose": "true"})
        data = _json(answer)
        if answer.status_code == 404 and data.get("error_code") == _SUBJECT_NOT_FOUND:
            return None  # deleted since the listing: nothing to be compatible with
        if not answer.is_success:
            raise RegistryError(f"registry refused {subject}: {_error_text(answer)}")
        if data.get("is_compatible"):
            return None
        # Confluent's messages also carry the whole old schema: not a reason to print.
        messages = [str(m) for m in data.get("messages") or [] if "oldSchema:" not in str(m)]
        reason = "; ".join(messages) or self._apicurio_reason(subject, schema)
        return f"incompatible with the latest version: {reason or 'no reason given'}"

    def _apicurio_reason(self, subject: str, schema: Schema) -> str | None:
        if "/apis/ccompat/" not in self.base:
            return None
        native = self.base.split("/apis/ccompat/")[0] + "/apis/registry/v3"
        # ccompat subjects live in Apicurio's `default` group; dryRun stores nothing.
        url = f"{native}/groups/default/artifacts/{quote(subject, safe='')}/versions"
        body = {"content": {"content": schema.schema_str, "contentType": "application/json"}}
        answer = self._post(url, body, {"dryRun": "true"})
        if answer.is_success:
            return None
        causes = _json(answer).get("causes") or []
        found = [f"{c.get('description')} at {c.get('context')}" for c in causes]
        return "; ".join(found) or _error_text(answer)

    def _post(self, url: str, body: dict[str, Any], params: dict[str, str]) -> httpx.Response:
        try:
            return self.http.post(url, json=body, params=params)
        except httpx.HTTPError as exc:
            raise _unreachable(self.client, exc) from exc


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        data = answer.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error_text(answer: httpx.Response) -> str:
    data = _json(answer)
    text = data.get("message") or data.get("title") or data.get("detail") or answer.text
    return f"{answer.status_code} {_JAVA_PREFIX.sub('', str(text)).strip()}"[:300]
