"""One structlog configuration for the whole process."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog


def configure_logging(
    *, json: bool, level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Log key=value events with the request's bound context; JSON when not on a terminal."""
    sink = stream or sys.stderr
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sink.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sink),
        # Not cached, so that a reconfiguration (tests) reaches module-level loggers too;
        # it costs a dictionary lookup per event.
        cache_logger_on_first_use=False,
    )
    # aiohttp's own access log repeats the raw path (feed tokens, MRNs in query strings):
    # our middleware writes the one line per request instead.
    logging.getLogger("aiohttp.access").disabled = True
