"""What every CLI module shares: the error boundary and `--log-level`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from schemas.errors import UnknownCategoryError
from sharebus import logs
from sharebus.errors import SharebusError, UsageError

F = TypeVar("F", bound=Callable[..., Any])
err = Console(stderr=True, soft_wrap=True)


LogLevel = StrEnum("LogLevel", {name: name for name in logs.LEVELS})  # type: ignore[misc]
LOG_LEVEL = inspect.Parameter(
    "log_level",
    inspect.Parameter.KEYWORD_ONLY,
    default=logs.DEFAULT,
    annotation=Annotated[
        LogLevel,
        typer.Option(
            "--log-level",
            help="log lines at this level and above go to stderr",
            envvar="SHAREBUS_LOG_LEVEL",
            case_sensitive=False,
        ),
    ],
)


def friendly(fn: F) -> F:
    """Give a command `--log-level`, and turn a SharebusError into `error: <cause>` on
    stderr and exit code 1 (2 for a UsageError)."""

    signature = inspect.signature(fn, eval_str=True)
    # A command that takes `log_level` itself (the worker hands it to faust) gets it too,
    # with its own default.
    passes_on = "log_level" in signature.parameters

    default = signature.parameters["log_level"].default if passes_on else logs.DEFAULT

    @functools.wraps(fn)
    def wrapper(*args: Any, log_level: str = default, **kwargs: Any) -> Any:
        logs.configure(str(log_level))
        if passes_on:
            kwargs["log_level"] = str(log_level)
        try:
            return fn(*args, **kwargs)
        except SharebusError as exc:
            fail(str(exc))
            # A category id the catalog does not know is a bad argument, like a bad option.
            usage = isinstance(exc, (UsageError, UnknownCategoryError))
            raise typer.Exit(2 if usage else 1) from None

    params = [p for p in signature.parameters.values() if p.name != "log_level"]
    params.append(LOG_LEVEL.replace(default=default))
    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def fail(message: str) -> None:
    """Print `error: <message>` on stderr, on one line."""
    err.print(f"[red]error:[/red] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
