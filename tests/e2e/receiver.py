"""A webhook receiver for end-to-end tests: logs every POST /hook as one JSON line.

    python tests/e2e/receiver.py --port P --log FILE (--secret whsec_... | --secret-file F)
        [--fail-first N] [--hang-first N] [--status-first N --status CODE] [--delay S]

Request n (counting from 1) is answered, in this order of precedence: not at all for a long
time if n <= --hang-first (logged on arrival, before the wait), --status if n <= --status-first,
500 if n <= --fail-first, else 204; answers come after --delay seconds (a slow clinic). Each
line holds the arrival time (time.time()), the webhook-* headers, the raw body, whether the
Standard Webhooks signature verifies with the secret (read from --secret-file at each request
when given, so a test may write it later), and the answer. GET /health answers 200 once
listening. SIGTERM (or SIGINT) exits cleanly with 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from aiohttp import web
from standardwebhooks import Webhook

HANG_SECONDS = 300.0  # far longer than any sender's timeout


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", type=Path, required=True, help="JSON lines, one per request")
    secret = parser.add_mutually_exclusive_group(required=True)
    secret.add_argument("--secret", help="the spoke's whsec_... secret")
    secret.add_argument("--secret-file", type=Path, help="a file holding it, read per request")
    parser.add_argument("--fail-first", type=int, default=0, help="answer 500 to the first N")
    parser.add_argument("--hang-first", type=int, default=0, help="never answer the first N")
    parser.add_argument("--status-first", type=int, default=0, help="answer --status to them")
    parser.add_argument("--status", type=int, default=410)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before answering")
    return parser


def _append(path: Path, record: dict[str, Any]) -> None:
    """One whole line per write, flushed at once (closing the file flushes it)."""
    with path.open("a", encoding="utf-8") as sink:
        sink.write(json.dumps(record) + "\n")


class Receiver:
    """Counts requests, verifies and logs each, and answers as told."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.count = 0

    def secret(self) -> str | None:
        """The secret to verify with; None while its file is not written yet."""
        if self.args.secret:
            return str(self.args.secret)
        try:
            return self.args.secret_file.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def answer(self, n: int) -> int | None:
        """The status for request n; None to hang."""
        if n <= self.args.hang_first:
            return None
        if n <= self.args.status_first:
            return int(self.args.status)
        if n <= self.args.fail_first:
            return 500
        return 204

    def verify(self, body: str, headers: dict[str, str]) -> tuple[bool, str | None]:
        """Whether the Standard Webhooks signature holds, and why not."""
        secret = self.secret()
        if secret is None:
            return False, "no secret yet"
        try:
            Webhook(secret).verify(body, headers)
        except Exception as exc:  # a bad secret or a bad signature: both are findings
            return False, f"{type(exc).__name__}: {exc}"
        return True, None

    async def hook(self, request: web.Request) -> web.Response:
        """Log the delivery, then answer (or hang)."""
        arrived = time.time()
        self.count += 1
        n = self.count
        body = await request.text()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verified, error = self.verify(body, headers)
        status = self.answer(n)
        _append(
            self.args.log,
            {
                "n": n,
                "time": arrived,
                "headers": {k: v for k, v in headers.items() if k.startswith("webhook-")},
                "body": body,
                "verified": verified,
                "error": error,
                "answer": "hang" if status is None else status,
            },
        )
        await asyncio.sleep(HANG_SECONDS if status is None else self.args.delay)
        return web.Response(status=status or 504)


async def health(_: web.Request) -> web.Response:
    """Listening."""
    return web.Response(text="ok")


def main(argv: list[str] | None = None) -> int:
    """Serve on 127.0.0.1 until SIGTERM."""
    args = _parser().parse_args(argv)
    receiver = Receiver(args)
    app = web.Application()
    app.router.add_post("/hook", receiver.hook)
    app.router.add_get("/health", health)
    # A hanging handler must not hold up a clean exit: give in-flight requests little time.
    web.run_app(
        app, host="127.0.0.1", port=args.port, shutdown_timeout=0.1, print=None, access_log=None
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
