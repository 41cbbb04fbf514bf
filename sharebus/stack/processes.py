"""Processes of the local stack: started in their own sessions, waited on until ready,
stopped together (SIGTERM, then SIGKILL after a grace)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from foundation.errors import StackError

# Seconds the last running node of a cluster is given once the others have stopped.
LAST_NODE_GRACE = 5.0


def launch_all(
    run_dir: Path,
    cmds: dict[str, list[str]],
    ready: Callable[[str], bool],
    timeout: float,
    report: Callable[[str], None],
    cwd: Path | None = None,
) -> float:
    """Start every command, then wait until each is ready: a cluster's nodes must all
    run before any is (its controllers need a quorum)."""
    started = time.monotonic()
    procs: dict[str, subprocess.Popen[bytes]] = {}
    for name, cmd in cmds.items():
        log_path = run_dir / f"{name}.log"
        report(f"starting {name} (log: {log_path}) ...")
        with open(log_path, "ab") as log:
            procs[name] = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True
            )
        (run_dir / f"{name}.pid").write_text(str(procs[name].pid))
    waiting = list(procs)
    deadline = started + timeout
    while waiting and time.monotonic() < deadline:
        for name in list(waiting):
            proc = procs[name]
            if proc.poll() is not None:
                _abandon(run_dir, procs)
                raise StackError(
                    f"{name} exited with code {proc.returncode}: "
                    f"{last_error(run_dir / f'{name}.log')}"
                )
            if ready(name):
                waiting.remove(name)
        if waiting:
            time.sleep(0.2)
    if waiting:
        _abandon(run_dir, procs)
        log_path = run_dir / f"{waiting[0]}.log"
        raise StackError(
            f"{waiting[0]} did not become ready in {timeout:.0f}s: {last_error(log_path)}"
        )
    took = time.monotonic() - started
    report(f"{', '.join(procs)} ready in {took:.1f}s")
    return took


def _abandon(run_dir: Path, procs: dict[str, subprocess.Popen[bytes]]) -> None:
    """A start that failed leaves nothing running, and no pid file behind."""
    terminate(*(p.pid for p in procs.values() if p.poll() is None))
    for name in procs:
        (run_dir / f"{name}.pid").unlink(missing_ok=True)


def terminate(*pids: int, grace: float = 30.0) -> None:
    """Signal every pid at once, give them `grace` seconds together, then SIGKILL."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM if grace > 0 else signal.SIGKILL)
    deadline = time.monotonic() + grace
    shortened = False
    while time.monotonic() < deadline:
        running = [p for p in pids if pid_running(p)]
        if not running:
            break
        if len(pids) > 1 and len(running) == 1 and not shortened:
            # A cluster's last node waits for a controller quorum that has gone with
            # the others: its clean shutdown cannot finish.
            deadline = min(deadline, time.monotonic() + LAST_NODE_GRACE)
            shortened = True
        time.sleep(0.1)
    for pid in pids:
        if pid_running(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    while any(pid_running(p) for p in pids):
        time.sleep(0.05)


def pid_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def last_error(log_path: Path) -> str:
    try:
        lines = log_path.read_text(errors="replace").splitlines()
    except OSError:
        return "no log"
    for line in reversed(lines[-200:]):
        if "ERROR" in line or "Exception" in line:
            return line.strip()[:300]
    return lines[-1].strip()[:300] if lines else "no output"
