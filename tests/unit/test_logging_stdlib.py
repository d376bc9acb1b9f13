"""Records of the standard library's logging (asyncpg, aiohttp) come out as our JSON lines."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from telehub.logging import configure_logging


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged during the test, as JSON lines."""
    buffer = io.StringIO()
    configure_logging(json=True, stream=buffer)
    yield buffer
    configure_logging(json=True)


def test_a_library_warning_with_a_traceback_is_one_json_line_naming_the_error(
    log_lines: io.StringIO,
) -> None:
    try:
        raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
    except ConnectionRefusedError:
        logging.getLogger("asyncpg.pool").warning(
            "Failed to restore the pool connection floor; retrying", exc_info=True
        )

    lines = log_lines.getvalue().splitlines()
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["event"] == "Failed to restore the pool connection floor; retrying"
    assert event["level"] == "warning"
    assert event["logger"] == "asyncpg.pool"
    assert event["error"].startswith("ConnectionRefusedError: [Errno 111]")
    assert "timestamp" in event
    assert "Traceback" not in lines[0]


def test_a_library_message_with_arguments_is_formatted_once(log_lines: io.StringIO) -> None:
    logging.getLogger("aiohttp.server").error("Error handling request from %s", "127.0.0.1")

    (line,) = log_lines.getvalue().splitlines()
    assert json.loads(line)["event"] == "Error handling request from 127.0.0.1"


def test_reconfiguring_keeps_one_handler_so_nothing_is_logged_twice(
    log_lines: io.StringIO,
) -> None:
    buffer = io.StringIO()
    configure_logging(json=True, stream=buffer)
    configure_logging(json=True, stream=buffer)

    logging.getLogger("asyncpg").warning("once")

    assert len(buffer.getvalue().splitlines()) == 1
    assert log_lines.getvalue() == ""
