"""Logging for the commands: `--log-level` and `--log-format` on every one, library noise
kept down.

Failures reach the user as one-line errors; the libraries' own log lines (librdkafka's
retries, an INFO line per HTTP call to the registry) are shown only when asked for.
Every log record is one line: human text (no colour codes, so a log file stays plain),
or JSON for a log shipper (`--log-format json`, `SHAREBUS_LOG_FORMAT=json`). An exception
is its type and first line; the traceback only at debug, where someone asked for it.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

LEVELS = ("debug", "info", "warning", "error", "critical")
DEFAULT = "warning"
FORMATS = ("text", "json")
DEFAULT_FORMAT = "text"
# Libraries that speak at INFO on every call; shown at warning and above unless debugging.
CHATTY = ("httpx", "httpx2", "httpcore", "aiokafka", "faust", "mode", "urllib3")
# librdkafka through confluent-kafka: its connection retries repeat every second.
CLIENT = "sharebus.librdkafka"
# What every LogRecord has: anything else was given as `extra=` and goes into the JSON.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def level_of(name: str) -> int:
    return int(getattr(logging, name.upper()))


def configure(level: str = DEFAULT, fmt: str = DEFAULT_FORMAT) -> None:
    """Send log lines at `level` and above to stderr, one line each, as text or JSON."""
    numeric = level_of(level)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(fmt, tracebacks=numeric <= logging.DEBUG))
    logging.basicConfig(level=numeric, handlers=[handler], force=True)
    quiet_libraries(numeric)


def formatter(fmt: str, tracebacks: bool = False) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter(tracebacks)
    return TextFormatter(tracebacks)


def quiet_libraries(numeric: int) -> None:
    debugging = numeric <= logging.DEBUG
    for name in CHATTY:
        logging.getLogger(name).setLevel(numeric if debugging else max(numeric, logging.WARNING))
    logging.getLogger(CLIENT).setLevel(numeric if numeric <= logging.INFO else logging.CRITICAL)


class TextFormatter(logging.Formatter):
    """`<time> <LEVEL> <logger>: <message>`, one line (an exception as `: Type: cause`)."""

    def __init__(self, tracebacks: bool = False) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if self.tracebacks:
            return super().format(record)
        record.message = record.getMessage()
        record.asctime = self.formatTime(record)
        line = _one_line(self.formatMessage(record))
        if record.exc_info and record.exc_info[1] is not None:
            line += f": {exception_line(record.exc_info[1])}"
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (ISO 8601, UTC), level, logger, message, the extra
    fields given with the call, and `error` for an exception."""

    def __init__(self, tracebacks: bool = False) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in line:
                line[key] = value
        if record.exc_info and record.exc_info[1] is not None:
            line["error"] = exception_line(record.exc_info[1])
            if self.tracebacks:
                line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def exception_line(exc: BaseException) -> str:
    """`Type: first line of its message`, at most 300 characters."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    return " ".join(line.strip() for line in lines) if len(lines) > 1 else text.strip()
