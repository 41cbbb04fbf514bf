"""`--log-level`: the libraries' per-call lines stay out unless debugging."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from sharebus import logs


@pytest.fixture(autouse=True)
def restore() -> Iterator[None]:
    names = [*logs.CHATTY, logs.CLIENT]
    before = {n: logging.getLogger(n).level for n in names}
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


def test_info_keeps_registry_calls_and_client_retries_out() -> None:
    logs.quiet_libraries(logging.INFO)
    assert not logging.getLogger("httpx2").isEnabledFor(logging.INFO)
    assert not logging.getLogger("aiokafka").isEnabledFor(logging.INFO)
    assert logging.getLogger(logs.CLIENT).isEnabledFor(logging.INFO)


def test_the_default_hides_librdkafka_errors_the_command_reports_itself() -> None:
    logs.quiet_libraries(logs.level_of(logs.DEFAULT))
    assert not logging.getLogger(logs.CLIENT).isEnabledFor(logging.ERROR)
    assert logging.getLogger("httpx").isEnabledFor(logging.WARNING)


def test_debug_shows_everything() -> None:
    logs.quiet_libraries(logging.DEBUG)
    for name in [*logs.CHATTY, logs.CLIENT]:
        assert logging.getLogger(name).isEnabledFor(logging.DEBUG), name
