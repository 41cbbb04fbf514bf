"""What every CLI module shares: the error boundary."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console

from sharebus.errors import SharebusError, UsageError

F = TypeVar("F", bound=Callable[..., Any])
err = Console(stderr=True, soft_wrap=True)


def friendly(fn: F) -> F:
    """Turn a SharebusError into `error: <cause>` on stderr and exit code 1 (2 for a
    UsageError)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SharebusError as exc:
            err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(2 if isinstance(exc, UsageError) else 1) from None

    return wrapper  # type: ignore[return-value]
