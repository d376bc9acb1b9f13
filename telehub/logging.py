"""One structlog configuration for the whole process, libraries' stdlib logging included."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from structlog.types import EventDict, WrappedLogger


def _one_line_error(logger: WrappedLogger, name: str, event: EventDict) -> EventDict:
    """A library's exc_info becomes `error="Type: message"`: one line, no traceback.

    Libraries log expected trouble with a traceback (asyncpg: "Failed to restore the pool
    connection floor; retrying" on every attempt while the database is down); the type and
    message say what happened, and our own code logs its unexpected errors itself.
    """
    exc_info = event.pop("exc_info", None)
    if exc_info:
        if exc_info is True:
            exc_info = sys.exc_info()
        if isinstance(exc_info, BaseException):
            exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
        if isinstance(exc_info, tuple) and exc_info[0] is not None:
            event["error"] = f"{exc_info[0].__name__}: {exc_info[1]}"
    return event


def _library(logger: WrappedLogger, name: str, event: EventDict) -> EventDict:
    record = event.get("_record")
    if isinstance(record, logging.LogRecord):
        event["logger"] = record.name
    return event


_HANDLER_NAME = "telehub"


def configure_logging(
    *, json: bool, level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Log key=value events with the request's bound context; JSON when not on a terminal.

    Records of the standard library's `logging` (asyncpg, aiohttp) go through the same
    processors and renderer, as one line each.
    """
    sink = stream or sys.stderr
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sink.isatty())
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sink),
        # Not cached, so that a reconfiguration (tests) reaches module-level loggers too;
        # it costs a dictionary lookup per event.
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sink)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, _library, _one_line_error],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # aiohttp's own access log repeats the raw path (feed tokens, MRNs in query strings):
    # our middleware writes the one line per request instead.
    logging.getLogger("aiohttp.access").disabled = True
