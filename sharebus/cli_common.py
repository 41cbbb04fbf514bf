"""What every CLI module shares: the error boundary, `--log-level` and `--log-format`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from foundation import logs
from foundation.errors import SharebusError, UsageError
from schemas.errors import UnknownCategoryError

F = TypeVar("F", bound=Callable[..., Any])
err = Console(stderr=True, soft_wrap=True)


def _choice(name: str, choices: tuple[str, ...], default: str, help: str) -> inspect.Parameter:
    """A `--<name>` option every command gets, one of `choices`, also read from
    `SHAREBUS_<NAME>`."""
    kind = StrEnum(name.title().replace("_", ""), {c: c for c in choices})  # type: ignore[misc]
    flag = f"--{name.replace('_', '-')}"
    option = typer.Option(flag, help=help, envvar=f"SHAREBUS_{name.upper()}", case_sensitive=False)
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[kind, option]
    )


LOG_LEVEL = _choice(
    "log_level", logs.LEVELS, logs.DEFAULT, "log lines at this level and above go to stderr"
)
LOG_FORMAT = _choice(
    "log_format",
    logs.FORMATS,
    logs.DEFAULT_FORMAT,
    "log lines as text, or as one JSON object each (for a log shipper)",
)


def friendly(fn: F) -> F:
    """Give a command `--log-level` and `--log-format`, and turn a SharebusError into
    `error: <cause>` on stderr and exit code 1 (2 for a UsageError)."""

    signature = inspect.signature(fn, eval_str=True)
    # A command that takes `log_level` itself (the worker hands it to faust) gets it too,
    # with its own default.
    passes_on = "log_level" in signature.parameters

    default = signature.parameters["log_level"].default if passes_on else logs.DEFAULT

    @functools.wraps(fn)
    def wrapper(
        *args: Any, log_level: str = default, log_format: str = logs.DEFAULT_FORMAT, **kwargs: Any
    ) -> Any:
        logs.configure(str(log_level), str(log_format))
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
    params += [LOG_LEVEL.replace(default=default), LOG_FORMAT]
    wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def fail(message: str) -> None:
    """Print `error: <message>` on stderr, on one line."""
    err.print(f"[red]error:[/red] {escape(message)}", markup=True, highlight=False, soft_wrap=True)
