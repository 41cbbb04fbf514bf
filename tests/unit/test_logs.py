"""`--log-level`: the libraries' per-call lines stay out unless debugging; `--log-format`:
one line per record, as text without escape codes or as JSON."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest

from foundation import logs


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


def _record(msg: str, *args: object, exc: BaseException | None = None, **extra: object):  # type: ignore[no-untyped-def]
    exc_info = (type(exc), exc, exc.__traceback__) if exc else None
    record = logging.LogRecord("sharebus.worker", logging.WARNING, "x.py", 1, msg, args, exc_info)
    record.__dict__.update(extra)
    return record


def _raised(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_a_json_line_has_time_level_logger_message_and_the_extra_fields() -> None:
    line = logs.JsonFormatter().format(_record("waiting: %s", "registry", partition=3))
    parsed = json.loads(line)
    assert "\n" not in line
    assert parsed["level"] == "warning" and parsed["logger"] == "sharebus.worker"
    assert parsed["message"] == "waiting: registry" and parsed["partition"] == 3
    assert datetime.fromisoformat(parsed["time"]).tzinfo is not None


def test_an_exception_is_one_line_its_type_and_first_line_without_traceback() -> None:
    exc = _raised(ValueError("bad value\nsecond line"))
    parsed = json.loads(logs.JsonFormatter().format(_record("failed", exc=exc)))
    assert parsed["error"] == "ValueError: bad value" and "traceback" not in parsed
    text = logs.TextFormatter().format(_record("failed", exc=exc))
    assert text.endswith("WARNING sharebus.worker: failed: ValueError: bad value")
    assert "\n" not in text and "Traceback" not in text


def test_debugging_keeps_the_traceback() -> None:
    exc = _raised(ValueError("bad"))
    parsed = json.loads(logs.JsonFormatter(tracebacks=True).format(_record("failed", exc=exc)))
    assert "Traceback" in parsed["traceback"]
    assert "Traceback" in logs.TextFormatter(tracebacks=True).format(_record("failed", exc=exc))


def test_text_has_no_terminal_escape_codes_and_stays_on_one_line() -> None:
    text = logs.TextFormatter().format(_record("first\nsecond"))
    assert "\x1b" not in text and "\n" not in text and text.endswith("first second")


def test_the_format_setting_reaches_the_root_handler(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("info", "json")
    try:
        logging.getLogger("sharebus.test").info("hello", extra={"bank": "ccb"})
        parsed = json.loads(capsys.readouterr().err.strip())
        assert parsed["message"] == "hello" and parsed["bank"] == "ccb"
    finally:
        logs.configure()
