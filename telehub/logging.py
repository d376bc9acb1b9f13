"""One structlog configuration for the whole process."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(*, json: bool, level: int = logging.INFO) -> None:
    """Log key=value events with the request's bound context; JSON when not on a terminal."""
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
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
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # aiohttp's own access log repeats the raw path (feed tokens, MRNs in query strings):
    # our middleware writes the one line per request instead.
    logging.getLogger("aiohttp.access").disabled = True
