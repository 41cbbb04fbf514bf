"""What `sharebus worker` settles before it starts: its status port, and that every
grant in force that hashes a field has its bank's key.

Several workers on one host need no configuration: when the default status port is
taken (another worker has it), a free one is chosen and said. A port set explicitly is
kept, and a taken one is an error. A worker without a bank's hash key would deny every
record of that grant with reason `error`, visible only in the audit: it refuses to start.
Faust would set logging up itself as it starts: the worker keeps the command's own.
"""

from __future__ import annotations

import socket
import sys
from datetime import UTC, datetime
from typing import Any

from foundation.errors import ConfigError
from foundation.settings import WorkerSettings
from governance.models import Governance, Status
from streams.app import Worker


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def any_free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def with_status_port(settings: WorkerSettings) -> WorkerSettings:
    """`settings` with a status port this worker can bind (0 stays off)."""
    port = settings.web_port
    if port == 0 or port_free(port):
        return settings
    if "web_port" in settings.model_fields_set:
        raise ConfigError(
            f"status port {port} is taken: set SHAREBUS_WORKER_WEB_PORT to a free port "
            "(or 0 for none)"
        )
    return settings.model_copy(update={"web_port": any_free_port()})


def missing_hash_keys(
    gov: Governance, keys: dict[str, bytes], now: datetime | None = None
) -> list[str]:
    """One line per bank whose grants in force (active, not ended) hash without a key."""
    now = now or datetime.now(UTC)
    needs: dict[str, list[str]] = {}
    for agreement in gov.agreements.values():
        if agreement.status != Status.active or agreement.effective_until <= now:
            continue
        if agreement.bank in keys:
            continue
        for grant in agreement.grants:
            hashed = sorted(f for f, m in grant.masks.items() if m.kind == "hash")
            needs.setdefault(agreement.bank, []).extend(
                f"{agreement.id} {grant.category}.{f}" for f in hashed
            )
    return [f"{bank} ({', '.join(fields)})" for bank, fields in sorted(needs.items()) if fields]


def check_hash_keys(gov: Governance, keys: dict[str, bytes]) -> None:
    missing = missing_hash_keys(gov, keys)
    if missing:
        raise ConfigError(
            f"no hash key for bank {'; '.join(missing)}: "
            'set SHAREBUS_WORKER_MASK_KEYS=\'{"<bank>": "<secret>", ...}\''
        )


class QuietWorker(Worker):
    """The streams worker, logging as every command does (`logs.configure`, already
    done: faust's own set-up would replace it with colour codes and its INFO chatter), and
    with no banner or progress spinner writing into a log file."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        terminal = sys.stdout.isatty()
        super().__init__(*args, override_logging=False, quiet=not terminal, **kwargs)
        if not terminal:
            self.spinner = None
