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


# --- D4: forms that cannot be decoded --------------------------------------------------------

BOUNDARY = "b0undary"
UNDECODABLE_FORMS = [
    pytest.param(FORM, b"email=\xff&password=x&csrf_token=t", id="raw-ff-byte"),
    pytest.param(f"{FORM}; charset=bogus", b"email=a&password=x&csrf_token=t", id="charset-bogus"),
    pytest.param("multipart/form-data", b"--x\r\n\r\nx\r\n--x--\r\n", id="multipart-no-boundary"),
    pytest.param(
        f"multipart/form-data; boundary={BOUNDARY}",
        (
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=email\r\n\r\n".encode()
            + b"\xff\xfe\r\n"
            + f"--{BOUNDARY}--\r\n".encode()
        ),
        id="multipart-bad-utf8-field",
    ),
    pytest.param(
        f"multipart/form-data; boundary={BOUNDARY}",
        b"this is not multipart at all",
        id="multipart-malformed",
    ),
    pytest.param(
        f"multipart/form-data; boundary={BOUNDARY}",
        (
            f"--{BOUNDARY}\r\nContent-Disp\xeaosition: form-data; name=email\r\n\r\n".encode()
            + f"a\r\n--{BOUNDARY}--\r\n".encode()
        ),
        id="multipart-part-header-not-ascii",
    ),
    pytest.param(
        f"multipart/form-data; boundary={BOUNDARY}",
        (
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=email\r\n".encode()
            + b"Content-Transfer-Encoding: rot13\r\n\r\n"
            + f"a\r\n--{BOUNDARY}--\r\n".encode()
        ),
        id="multipart-unknown-transfer-encoding",
    ),
]


@pytest.mark.parametrize(("content_type", "body"), UNDECODABLE_FORMS)
async def test_an_undecodable_page_form_gets_the_400_error_page(
    client: TestClient, conn: asyncpg.Connection, content_type: str, body: bytes
) -> None:
    before = await audit_rows(conn)
    response = await client.post(
        "/signin", data=body, headers={"Content-Type": content_type}, allow_redirects=False
    )
    assert response.status == 400, await response.text()
    assert response.content_type == HTML
    assert "form" in await response.text()
    assert await audit_rows(conn) == before


@pytest.mark.parametrize(("content_type", "body"), UNDECODABLE_FORMS)
async def test_an_undecodable_token_request_is_an_rfc_6749_invalid_request(
    client: TestClient, content_type: str, body: bytes
) -> None:
    response = await client.post("/oauth/token", data=body, headers={"Content-Type": content_type})
    assert response.status == 400, await response.text()
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    answer = await response.json()
    assert answer["error"] == "invalid_request"
    assert "form" in answer["error_description"]


async def test_an_undecodable_form_to_a_signed_in_page_gets_the_400_error_page(
    client: TestClient, network: Network
) -> None:
    email, password = await network.user("hub_admin")
    assert (await sign_in(client, email, password)).status == 303
    response = await client.post(
        "/signout",
        data=b"csrf_token=\xff",
        headers={"Content-Type": FORM},
        allow_redirects=False,
    )
    assert response.status == 400
    assert response.content_type == HTML


# --- D5: authorization headers that cannot be read -------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param("Basic é".encode(), id="non-ascii-utf8"),
        pytest.param(b"Basic \xe9", id="latin-1-byte"),
        pytest.param(b"Basic \xff\xfe", id="undecodable"),
        pytest.param("Basic ZTo=é".encode(), id="base64-then-non-ascii"),
    ],
)
async def test_basic_credentials_that_are_not_ascii_are_invalid_client(
    client: TestClient, credentials: bytes
) -> None:
    response = await send_raw(
        client,
        f"POST /oauth/token HTTP/1.1\r\nContent-Type: {FORM}\r\n".encode()
        + b"Authorization: "
        + credentials,
        b"grant_type=client_credentials",
    )
    assert response.status == 401, response.body
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["www-authenticate"] == 'Basic realm="telehub"'
    assert '"error": "invalid_client"' in response.body


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(b"\xff", id="undecodable-byte"),
        pytest.param(b"eyJ\xff.eyJ.sig", id="undecodable-inside-a-jwt"),
        pytest.param("é".encode(), id="non-ascii-utf8"),
        pytest.param(b"\xe9", id="latin-1-byte"),
    ],
)
async def test_a_bearer_token_that_is_not_ascii_is_invalid_token(
    client: TestClient, token: bytes
) -> None:
    response = await send_raw(
        client, b"GET /api/v1/patients HTTP/1.1\r\nAuthorization: Bearer " + token
    )
    assert response.status == 401, response.body
    assert response.headers["content-type"].startswith("application/problem+json")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("path", "header", "content_type"),
    [
        pytest.param("/signin", b"Cookie: telehub_session=\xff", HTML, id="page-session-cookie"),
        pytest.param("/signin", b"User-Agent: \xff\xfe", HTML, id="page-user-agent"),
        pytest.param(
            "/api/v1/patients", b"X-Request-Id: abcdefgh\xff", "application/problem+json", id="api"
        ),
        pytest.param(
            "/.well-known/oauth-authorization-server",
            b"Accept-Language: \xc3\x28",
            "application/problem+json",
            id="discovery",
        ),
    ],
)
async def test_a_header_that_is_not_utf8_is_a_bad_request_naming_it(
    client: TestClient, path: str, header: bytes, content_type: str
) -> None:
    response = await send_raw(client, f"GET {path} HTTP/1.1\r\n".encode() + header)
    assert response.status == 400, response.body
    assert response.headers["content-type"].startswith(content_type)
    assert header.split(b":")[0].decode().lower() in response.body.lower()


async def test_a_header_in_utf8_beyond_ascii_still_passes(client: TestClient) -> None:
    # Only bytes that are not UTF-8 are refused: a UTF-8 user agent is some browser's business.
    response = await send_raw(client, "GET /signin HTTP/1.1\r\nUser-Agent: Nävigator".encode())
    assert response.status == 200


# --- D14: cookies go through the control-character check -------------------------------------


@pytest.mark.parametrize(
    ("path", "cookie", "content_type"),
    [
        pytest.param("/signin", r'telehub_session="\000"', HTML, id="session-nul"),
        pytest.param("/signin", r'telehub_signin="a\001b"', HTML, id="signin-ctrl-a"),
        pytest.param("/coordinator", r'telehub_session="x\012y"', HTML, id="session-newline"),
        pytest.param("/api/v1/patients", r'other="\177"', "application/problem+json", id="api-del"),
    ],
)
async def test_a_cookie_holding_a_control_character_is_a_bad_request_naming_it(
    client: TestClient, path: str, cookie: str, content_type: str
) -> None:
    response = await send_raw(client, f"GET {path} HTTP/1.1\r\nCookie: {cookie}".encode())
    assert response.status == 400, response.body
    assert response.headers["content-type"].startswith(content_type)
    assert "control character" in response.body
    assert cookie.split("=")[0] in response.body


async def test_a_post_with_a_nul_cookie_is_refused_before_the_csrf_check(
    client: TestClient,
) -> None:
    response = await send_raw(
        client,
        f"POST /signin HTTP/1.1\r\nContent-Type: {FORM}\r\n".encode()
        + rb'Cookie: telehub_signin="\000"',
        b"email=a&password=x&csrf_token=x",
    )
    assert response.status == 400
    assert "control character" in response.body
