"""A lean HTTP/1.1 keep-alive client for the load generator.

The load generator shares the machine's two cores with the servers and PostgreSQL, so every
microsecond it spends parsing is taken from the system under test. This client does the
minimum: one persistent connection per simulated client, requests written as bytes,
Content-Length (or chunked) bodies read whole. It speaks plain HTTP over loopback TCP.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

_CRLF = b"\r\n"


class HttpError(Exception):
    """The server's answer could not be read."""


@dataclass(frozen=True, slots=True)
class Response:
    """A whole response: status, lower-cased headers, body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


class Connection:
    """One keep-alive connection to a server, reopened when the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._host_header = f"Host: {host}:{port}\r\n".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        """Connect now (requests connect lazily otherwise)."""
        await self._open()

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(
                self.host, self.port, limit=1 << 20
            )
        return self._reader, self._writer

    async def request(
        self,
        method: str,
        target: str,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Response:
        """Send one request and read its whole response."""
        head = [f"{method} {target} HTTP/1.1\r\n".encode(), self._host_header]
        for name, value in (headers or {}).items():
            head.append(f"{name}: {value}\r\n".encode())
        if body is not None:
            head.append(f"Content-Length: {len(body)}\r\n".encode())
        head.append(_CRLF)
        if body is not None:
            head.append(body)
        try:
            reader, writer = await self._open()
            writer.write(b"".join(head))
            return await self._read(reader, method)
        except BaseException:
            self.close()
            raise

    async def _read(self, reader: asyncio.StreamReader, method: str) -> Response:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            raise HttpError("the server closed the connection") from exc
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise HttpError(f"not an HTTP status line: {lines[0]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await _chunked(reader)
        else:  # read until close
            body = await reader.read()
            self.close()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Response(status, headers, body)

    def close(self) -> None:
        """Drop the connection (the next request opens a new one)."""
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(_CRLF)).split(b";")[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(_CRLF)) != _CRLF:  # trailers
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        await reader.readexactly(2)


def json_body(value: object) -> tuple[dict[str, str], bytes]:
    """Headers and bytes of a JSON request body."""
    return {"Content-Type": "application/json"}, json.dumps(value).encode()
