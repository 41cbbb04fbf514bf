"""A git-ignored file of generated passwords, readable by its owner only (mode 0600).

The local stack keeps its principals' SCRAM passwords here; clients of the local stack
find their credential here when the environment names none. Values leave this module
only as `SecretStr`, so a repr or a log line never shows them.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from foundation.errors import ConfigError


class SecretsFile:
    """Named passwords in one JSON file, created 0600 and never widened."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self, name: str) -> SecretStr | None:
        value = self._read().get(name)
        return SecretStr(value) if value else None

    def names(self) -> list[str]:
        return sorted(self._read())

    def get_or_create(self, name: str) -> SecretStr:
        """The password stored under `name`, generating and storing one when there is none."""
        found = self.get(name)
        if found is not None:
            return found
        return self.put(name, secrets.token_urlsafe(24))

    def put(self, name: str, value: str) -> SecretStr:
        data = self._read()
        data[name] = value
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        # Created 0600 from the first byte: a chmod after writing leaves a window.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=1, sort_keys=True)
        os.replace(tmp, self.path)
        return SecretStr(value)

    def _read(self) -> dict[str, str]:
        try:
            mode = self.path.stat().st_mode & 0o777
        except FileNotFoundError:
            return {}
        if mode & 0o077:
            raise ConfigError(f"{self.path} is readable by others (mode {mode:o}): chmod 600 it")
        try:
            data = json.loads(self.path.read_text())
        except ValueError as exc:
            raise ConfigError(f"{self.path} is not valid JSON: fix or remove it") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{self.path} must hold a JSON object of names to passwords")
        return {str(k): str(v) for k, v in data.items()}


def write_private(path: Path, text: str) -> None:
    """Write a file that holds a secret, mode 0600 from its creation."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path, 0o600)
