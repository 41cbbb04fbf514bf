"""SCRAM users and ACLs on the cluster, converged to what `sharebus.principals` derives.

ACLs are code, like topics: `plan` compares the derived set with the cluster's, `apply`
adds what is missing and removes every ACL that is not derived (an ACL nobody wrote down
is a hole nobody reviews).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialAlteration,
    UserScramCredentialUpsertion,
)
from pydantic import SecretStr

from foundation.errors import SharebusError
from foundation.kafka_errors import cause
from foundation.settings import KafkaSettings
from sharebus.principals import Acl

Report = Callable[[str], None]
SCRAM_ITERATIONS = 8192


class AccessError(SharebusError):
    """Users or ACLs could not be read or changed on the cluster."""


@dataclass(frozen=True)
class AclPlan:
    add: tuple[Acl, ...]
    remove: tuple[str, ...]
    _bindings: Mapping[str, AclBinding]

    @property
    def empty(self) -> bool:
        return not self.add and not self.remove

    def lines(self) -> list[str]:
        return [f"+ {a}" for a in self.add] + [f"- {r}" for r in self.remove]


class Access:
    """A thin admin over the cluster's SCRAM users and ACLs."""

    def __init__(self, settings: KafkaSettings, timeout: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self.admin = AdminClient(settings.librdkafka())

    # ---- users ------------------------------------------------------------------------

    def users(self) -> set[str]:
        try:
            future = self.admin.describe_user_scram_credentials(request_timeout=self.timeout)
            described = future.result(timeout=self.timeout)  # type: ignore[union-attr]
        except Exception as exc:
            raise AccessError(self._failed("listing SCRAM users", exc)) from exc
        return set(described)

    def set_passwords(self, passwords: Mapping[str, SecretStr]) -> None:
        """Create each user, or set its password (SCRAM-SHA-512)."""
        info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS)
        upserts: list[UserScramCredentialAlteration] = [
            UserScramCredentialUpsertion(user, info, secret.get_secret_value().encode())
            for user, secret in passwords.items()
        ]
        if not upserts:
            return
        futures = self.admin.alter_user_scram_credentials(upserts, request_timeout=self.timeout)
        for user, future in futures.items():
            try:
                future.result(timeout=self.timeout)
            except Exception as exc:
                raise AccessError(self._failed(f"setting the password of {user}", exc)) from exc

    # ---- ACLs -------------------------------------------------------------------------

    def current(self) -> dict[str, AclBinding]:
        """Every ACL on the cluster, by its rendering."""
        # None matches any name, principal and host (the stubs say str).
        anything: Any = None
        everything = AclBindingFilter(
            ResourceType.ANY,
            anything,
            ResourcePatternType.ANY,
            anything,
            anything,
            AclOperation.ANY,
            AclPermissionType.ANY,
        )
        try:
            bindings = self.admin.describe_acls(everything, request_timeout=self.timeout).result(
                timeout=self.timeout
            )
        except Exception as exc:
            raise AccessError(self._failed("listing ACLs", exc)) from exc
        return {_render(b): b for b in bindings}

    def plan(self, wanted: Iterable[Acl]) -> AclPlan:
        current = self.current()
        wanted_by_text = {_render(_binding(a)): a for a in wanted}
        add = tuple(sorted(a for text, a in wanted_by_text.items() if text not in current))
        remove = tuple(sorted(text for text in current if text not in wanted_by_text))
        return AclPlan(add, remove, {t: current[t] for t in remove})

    def apply(self, plan: AclPlan, report: Report) -> None:
        if plan.add:
            futures = self.admin.create_acls(
                [_binding(a) for a in plan.add], request_timeout=self.timeout
            )
            self._wait(futures.values(), "creating ACLs")
        if plan.remove:
            filters = [_as_filter(plan._bindings[t]) for t in plan.remove]
            deleted = self.admin.delete_acls(filters, request_timeout=self.timeout)
            self._wait(deleted.values(), "removing ACLs")
        for line in plan.lines():
            report(line)

    def _wait(self, futures: Iterable[object], doing: str) -> None:
        for future in futures:
            try:
                future.result(timeout=self.timeout)  # type: ignore[attr-defined]
            except Exception as exc:
                raise AccessError(self._failed(doing, exc)) from exc

    def _failed(self, doing: str, exc: Exception) -> str:
        return f"{doing} as {self.settings.principal} failed: {cause(exc)}"


def _binding(acl: Acl) -> AclBinding:
    return AclBinding(
        ResourceType[acl.resource.upper()],
        acl.name,
        ResourcePatternType[acl.pattern.upper()],
        f"User:{acl.principal}",
        "*",
        AclOperation[acl.operation],
        AclPermissionType.ALLOW,
    )


def _as_filter(b: AclBinding) -> AclBindingFilter:
    return AclBindingFilter(
        b.restype,
        b.name,
        b.resource_pattern_type,
        b.principal,
        b.host,
        b.operation,
        b.permission_type,
    )


def _render(b: AclBinding) -> str:
    op = b.operation.name if isinstance(b.operation, AclOperation) else str(b.operation)
    kind = b.restype.name if isinstance(b.restype, ResourceType) else str(b.restype)
    star = "*" if b.resource_pattern_type == ResourcePatternType.PREFIXED else ""
    deny = " (deny)" if b.permission_type == AclPermissionType.DENY else ""
    host = "" if b.host == "*" else f" from {b.host}"
    return f"{b.principal} {op} {kind.lower()} {b.name}{star}{host}{deny}"
