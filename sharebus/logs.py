"""Logging for the commands: `--log-level` on every one, library noise kept down.

Failures reach the user as one-line errors; the libraries' own log lines (librdkafka's
retries, an INFO line per HTTP call to the registry) are shown only when asked for.
"""

from __future__ import annotations

import logging
import sys

LEVELS = ("debug", "info", "warning", "error", "critical")
DEFAULT = "warning"
# Libraries that speak at INFO on every call; shown at warning and above unless debugging.
CHATTY = ("httpx", "httpx2", "httpcore", "aiokafka", "faust", "mode", "urllib3")
# librdkafka through confluent-kafka: its connection retries repeat every second.
CLIENT = "sharebus.librdkafka"


def level_of(name: str) -> int:
    return int(getattr(logging, name.upper()))


def configure(level: str = DEFAULT) -> None:
    """Send log lines at `level` and above to stderr, one line each."""
    numeric = level_of(level)
    logging.basicConfig(
        level=numeric,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    quiet_libraries(numeric)


def quiet_libraries(numeric: int) -> None:
    debugging = numeric <= logging.DEBUG
    for name in CHATTY:
        logging.getLogger(name).setLevel(numeric if debugging else max(numeric, logging.WARNING))
    logging.getLogger(CLIENT).setLevel(numeric if numeric <= logging.INFO else logging.CRITICAL)
