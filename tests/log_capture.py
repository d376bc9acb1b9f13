"""Everything the app logs during a test, as JSON lines (for tests that logs hold no patient
data). A test module imports `log_lines_fixture` to have its tests ask for `log_lines`."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from telehub.logging import configure_logging


@pytest.fixture(name="log_lines")
def log_lines_fixture() -> Iterator[io.StringIO]:
    """Everything logged during the test, as JSON lines."""
    buffer = io.StringIO()
    configure_logging(json=True, stream=buffer)
    yield buffer
    configure_logging(json=True)


def logged(buffer: io.StringIO) -> list[dict[str, Any]]:
    """The lines logged so far, each read as JSON."""
    return [json.loads(line) for line in buffer.getvalue().splitlines()]
