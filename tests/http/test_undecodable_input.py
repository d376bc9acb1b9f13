"""Input that cannot be decoded, or holds what text cannot: a 4xx that says so, never a 500.

Bytes that are not UTF-8, non-ASCII form tokens, unknown charsets, broken multipart bodies and
cookies holding control characters all reach the app before anyone signs in.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Network, sign_in

FORM = "application/x-www-form-urlencoded"
HTML = "text/html"


@dataclass(frozen=True)
class Raw:
    """A response read off the socket: what a client that sent raw bytes gets back."""

    status: int
    headers: dict[str, str]
    body: str


async def send_raw(client: TestClient, head: bytes, body: bytes = b"") -> Raw:
    """Send one request exactly as given (headers may hold any byte); read the whole answer."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        length = f"Content-Length: {len(body)}\r\n".encode() if body else b""
        writer.write(head + b"\r\nHost: telehub.test\r\nConnection: close\r\n" + length)
        writer.write(b"\r\n" + body)
        await writer.drain()
        answer = await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()
    top, _, content = answer.partition(b"\r\n\r\n")
    status_line, *lines = top.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Raw(int(status_line.split()[1]), headers, content.decode("utf-8", "replace"))


async def audit_rows(conn: asyncpg.Connection) -> int:
    """How many audit rows exist: a refused request writes none."""
    return int(await conn.fetchval("SELECT count(*) FROM audit_log"))


# --- D3: the CSRF comparison ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "cookie", "sent"),
    [
        pytest.param("/signin", "tok", "%C3%A9", id="non-ascii-form-token"),
        pytest.param("/signin", r'"\303\251"', "tok", id="non-ascii-signin-cookie"),
        pytest.param("/signin", r'"\303\251"', "%C3%A9", id="both-non-ascii"),
        pytest.param("/signin/code", "tok", "%C3%A9", id="code-page-non-ascii-form-token"),
        pytest.param("/signin", "tok", "%F0%9F%94%91", id="emoji-form-token"),
    ],
)
async def test_a_non_ascii_csrf_token_is_refused_as_a_foreign_form_not_a_500(
    client: TestClient, path: str, cookie: str, sent: str
) -> None:
    body = f"email=a%40b.example&password=x&code=123456&csrf_token={sent}".encode()
    response = await send_raw(
        client,
        f"POST {path} HTTP/1.1\r\nContent-Type: {FORM}\r\n".encode()
        + f"Cookie: telehub_signin={cookie}".encode(),
        body,
    )
    assert response.status == 403, response.body
    assert response.headers["content-type"].startswith(HTML)
    assert "did not come from Telehub" in response.body


async def test_a_signed_in_users_form_with_a_non_ascii_token_is_refused(
    client: TestClient, network: Network
) -> None:
    email, password = await network.user("hub_admin")
    assert (await sign_in(client, email, password)).status == 303
    response = await client.post(
        "/signout",
        data=b"csrf_token=%C3%A9",
        headers={"Content-Type": FORM},
        allow_redirects=False,
    )
    assert response.status == 403
    assert "did not come from Telehub" in await response.text()
