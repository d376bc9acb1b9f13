"""Far-off years, NUL and control characters, deep or huge JSON and odd digits get a 4xx
(a problem, or the error page), never a 500, and change nothing."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from tests.factories import Network
from tests.http.bad_input.support import (
    BOOKINGS,
    DEEP,
    HUGE_INT,
    KEY,
    Bad,
    World,
    assert_refused_and_nothing_changed,
    availability,
    booking,
    consultant,
    cursor_of,
    exception,
    not_found,
    patient,
    raw,
    service,
    slots,
)
from tests.http.problems import problem_of

# Far-off years (which overflow when moved to UTC), NUL characters (which PostgreSQL text
# cannot hold) and non-ASCII digits in a path once reached the database or int() and gave 500s.
EDGE_CASES = [
    pytest.param(
        booking(422, "validation", "start", start="9999-12-31T23:00:00-05:00"),
        id="booking-start-in-year-9999",
    ),
    pytest.param(
        slots("start", start="0001-01-01T00:00:00+01:00"),
        id="slots-window-from-year-1",
    ),
    pytest.param(
        availability(
            422,
            "validation",
            "exceptions.0.end",
            exceptions=exception(end="9999-12-31T23:00:00-05:00"),
        ),
        id="availability-exception-ending-after-year-9999-in-utc",
    ),
    pytest.param(
        Bad(
            "GET",
            "/api/v1/bookings",
            422,
            "validation",
            ("start",),
            query=lambda w: {"start": "9999-12-31T23:00:00-05:00"},
        ),
        id="bookings-list-from-year-9999",
    ),
    pytest.param(
        patient(422, "validation", "given_name", given_name="Ada\u0000"),
        id="patient-name-with-nul",
    ),
    pytest.param(
        booking(422, "validation", "reason", reason="see\u0000chart"),
        id="booking-reason-with-nul",
    ),
    pytest.param(service("name", name="Session\u0000"), id="service-name-with-nul"),
    pytest.param(
        Bad(
            "GET",
            "/api/v1/patients",
            400,
            "bad-request",
            ("mrn",),
            query=lambda w: {"mrn": "MRN\u0000"},
        ),
        id="patients-search-by-mrn-with-nul",
    ),
    pytest.param(
        not_found("/api/v1/consultants/%C2%B2/availability", availability(0, ""), "id"),
        id="availability-superscript-digit-id-in-path",
    ),
    # A line break or an invisible control in a name once reached calendar feeds.
    pytest.param(
        consultant("name", name="Dr New\nX-INJECTED:1"), id="consultant-name-with-newline"
    ),
    pytest.param(
        consultant("credentials", credentials="MD\r\nBEGIN:VEVENT"),
        id="consultant-credentials-with-crlf",
    ),
    pytest.param(service("name", name="Session\u2028two"), id="service-name-line-separator"),
    pytest.param(
        patient(422, "validation", "family_name", family_name="Love\u202elace"),
        id="patient-name-with-bidi-override",
    ),
    pytest.param(
        booking(422, "validation", "reason", reason="see\u0007chart"), id="booking-reason-bell"
    ),
    # JSON that exhausted the parser's recursion, or int()'s 4,300-digit limit.
    pytest.param(
        raw("POST", BOOKINGS, 400, "bad-request", "body", DEEP, idempotency_key=KEY),
        id="booking-json-nested-1200-deep",
    ),
    pytest.param(
        raw("POST", BOOKINGS, 400, "bad-request", "body", HUGE_INT, idempotency_key=KEY),
        id="booking-integer-of-5000-digits",
    ),
    pytest.param(
        raw(
            "POST",
            BOOKINGS,
            400,
            "bad-request",
            "body",
            b'{"service_id": NaN}',
            idempotency_key=KEY,
        ),
        id="booking-nan",
    ),
    # A hand-made bookings cursor holding a year PostgreSQL cannot take.
    *(
        pytest.param(
            Bad(
                "GET", BOOKINGS, 422, "validation", ("cursor",), query=lambda w, c=c: {"cursor": c}
            ),
            id=f"bookings-cursor-{name}",
        )
        for name, c in (
            ("year-1", cursor_of("0001-01-01T00:00:00+14:00")),
            ("year-9999", cursor_of("9999-12-31T23:59:59-12:00")),
        )
    ),
]


@pytest.mark.parametrize("case", EDGE_CASES)
async def test_far_off_years_nul_characters_and_odd_digits_get_a_problem_not_a_500(
    client: TestClient, conn: asyncpg.Connection, world: World, case: Bad
) -> None:
    await assert_refused_and_nothing_changed(client, conn, world, case)


async def test_a_nul_in_a_token_request_form_is_an_invalid_request(client: TestClient) -> None:
    response = await client.post(
        "/oauth/token",
        data=b"grant_type=client_credentials&client_id=a%00b&client_secret=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 400
    assert response.content_type == "application/json"  # RFC 6749 on the token endpoint
    body = await response.json()
    assert body["error"] == "invalid_request"
    assert "client_id" in body["error_description"]


@pytest.mark.parametrize(
    ("method", "path", "form"),
    [
        pytest.param("POST", "/signin", b"email=a%00b&password=x&csrf_token=t", id="signin-email"),
        pytest.param(
            "GET",
            "/spoke/book?service_id=1&day=2027-03-08&mrn=a%00b",
            None,
            id="book-page-mrn-in-query",
        ),
        pytest.param(
            "POST", "/coordinator/clients/a%00b/revoke", b"csrf_token=t", id="client-id-in-path"
        ),
        pytest.param(
            "POST", "/signin", b"email=a%01b%0Ac&password=x&csrf_token=t", id="signin-ctrl-a"
        ),
    ],
)
async def test_a_control_character_in_a_page_request_gets_the_error_page_naming_the_field(
    client: TestClient, conn: asyncpg.Connection, method: str, path: str, form: bytes | None
) -> None:
    before = await conn.fetchval("SELECT count(*) FROM audit_log")
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else {}
    response = await client.request(
        method, URL(path, encoded=True), data=form, headers=headers, allow_redirects=False
    )
    assert response.status == 400
    assert response.content_type == "text/html"
    assert "control character" in await response.text()
    assert await conn.fetchval("SELECT count(*) FROM audit_log") == before


async def test_a_control_character_in_an_api_query_is_a_bad_request_naming_it(
    client: TestClient, network: Network
) -> None:
    # (In a header, aiohttp's own parser answers 400 before the app sees the request.)
    spoke = await network.spoke()
    query = await client.get(URL("/api/v1/patients?mrn=a%07b", encoded=True), headers=spoke.headers)
    problem = await problem_of(query, 400)
    assert [e["field"] for e in problem["errors"]] == ["mrn"]


async def test_lines_in_a_multi_line_form_field_pass_the_control_character_check(
    client: TestClient,
) -> None:
    response = await client.post(
        "/signin",
        data=b"email=a%0D%0Ab%09c&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 403  # past the check, to the missing CSRF token
    assert "expired" in await response.text()
