"""Bad requests and how to send them: each names the status, problem type and fields
its refusal must carry; the network they go to is the `world` fixture (conftest.py)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from tests.factories import booking_row, slot_starts
from tests.http.problems import problem_of

TABLES = (
    "bookings",
    "patients",
    "services",
    "consultants",
    "consultant_services",
    "availability_rules",
    "availability_exceptions",
    "audit_log",
    "idempotency_keys",
)

# The default consultant works Mondays 09:00-12:00 in Los Angeles (PST until 14 March 2027).
OPEN = "2027-03-08T17:00:00Z"  # Monday 09:00 PST: an open slot, and stays one
BOOKED = "2027-03-15T16:00:00Z"  # Monday 09:00 PDT: the existing booking
HALF_PAST = "2027-03-08T17:30:00Z"  # Monday 09:30 PST: inside the hours, off the grid
TUESDAY = "2027-03-09T17:00:00Z"  # Tuesday 09:00 PST: no hours that day
LAST_WEEK = "2027-02-22T17:00:00Z"  # Monday 09:00 PST a week before the clock's "now"
SHORT_HORIZON_DAYS = 14
BEYOND_HORIZON = "2027-03-22T16:00:00Z"  # Monday 09:00 PDT, 21 days ahead
KEY = "bad-input-key-1"
UNKNOWN_ID = 987_654
OVERSIZE = "x" * (300 * 1024)
MAX_BODY = 256 * 1024


def padded_patient(size: int) -> bytes:
    """A patient body with an unknown `pad` field, exactly `size` bytes long."""
    body = {"mrn": "PAD-1", "given_name": "Ada", "family_name": "Lovelace"}
    body |= {"birth_date": "1980-02-03", "state": "VT", "pad": ""}
    text = json.dumps(body).encode()
    padded = text.replace(b'"pad": ""', b'"pad": "' + b"x" * (size - len(text)) + b'"')
    assert len(padded) == size
    return padded


@dataclass(frozen=True)
class World:
    """A consultant with one booking and open Monday slots, a spoke, its patient and another's."""

    service_id: int
    short_service_id: int
    other_service_id: int  # a service the consultant does not offer
    consultant_id: int
    patient_id: str
    stranger_id: str
    booking_id: str
    spoke_headers: Mapping[str, str]
    admin_headers: Mapping[str, str]


Body = Callable[[World], Any]
DROP = object()


@dataclass(frozen=True)
class Bad:
    """One bad request, and the refusal it must get."""

    method: str
    path: str
    status: int
    slug: str
    fields: tuple[str, ...] = ()
    detail_has: str = ""
    body: Body | None = None
    raw: bytes | None = None
    query: Body | None = None
    content_type: str = "application/json"
    as_admin: bool = False
    idempotency_key: str | None = None


def _fill(template: dict[str, Any], changes: dict[str, Any]) -> Body:
    def body(w: World) -> dict[str, Any]:
        merged = {**template, **changes}
        values = {k: v(w) if callable(v) else v for k, v in merged.items()}
        return {k: v for k, v in values.items() if v is not DROP}

    return body


def booking(status: int, slug: str, *fields: str, **changes: Any) -> Bad:
    """POST /api/v1/bookings of OPEN with `changes`, under an Idempotency-Key."""
    template = {
        "service_id": lambda w: w.service_id,
        "consultant_id": lambda w: w.consultant_id,
        "patient_id": lambda w: w.patient_id,
        "start": OPEN,
    }
    body = _fill(template, changes)
    return Bad("POST", "/api/v1/bookings", status, slug, fields, body=body, idempotency_key=KEY)


def not_found(path: str, case: Bad, detail_has: str) -> Bad:
    """The same request sent to a path whose id is malformed or unknown: 404."""
    return replace(case, path=path, status=404, slug="not-found", fields=(), detail_has=detail_has)


def raw(method: str, path: str, status: int, slug: str, field: str, data: bytes, **kw: Any) -> Bad:
    """A body that is not a JSON object, or not JSON at all."""
    return Bad(method, path, status, slug, (field,), raw=data, **kw)


def reschedule(status: int, slug: str, *fields: str, **changes: Any) -> Bad:
    """POST /api/v1/bookings/{booking}/reschedule to OPEN with `changes`."""
    return Bad(
        "POST",
        "/api/v1/bookings/{booking}/reschedule",
        status,
        slug,
        fields,
        body=_fill({"start": OPEN}, changes),
    )


def cancel(status: int, slug: str, *fields: str, **changes: Any) -> Bad:
    """POST /api/v1/bookings/{booking}/cancel with a reason, with `changes`."""
    return Bad(
        "POST",
        "/api/v1/bookings/{booking}/cancel",
        status,
        slug,
        fields,
        body=_fill({"reason": "patient asked"}, changes),
    )


def slots(*fields: str, **changes: Any) -> Bad:
    """GET /api/v1/slots for one Monday with `changes`: always 422."""
    template = {
        "service_id": lambda w: str(w.service_id),
        "start": "2027-03-08T00:00:00Z",
        "end": "2027-03-09T00:00:00Z",
        "patient_state": "VT",
    }
    return Bad("GET", "/api/v1/slots", 422, "validation", fields, query=_fill(template, changes))


def patient(status: int, slug: str, *fields: str, **changes: Any) -> Bad:
    """POST /api/v1/patients with `changes`."""
    template = {
        "mrn": "NEW-1",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "birth_date": "1980-02-03",
        "state": "VT",
    }
    return Bad("POST", "/api/v1/patients", status, slug, fields, body=_fill(template, changes))


def availability(status: int, slug: str, *fields: str, **changes: Any) -> Bad:
    """PUT /api/v1/consultants/{consultant}/availability, as the hub admin, with `changes`."""
    template = {
        "rules": [{"weekday": "monday", "start": "09:00", "end": "12:00"}],
        "exceptions": [],
    }
    return Bad(
        "PUT",
        "/api/v1/consultants/{consultant}/availability",
        status,
        slug,
        fields,
        body=_fill(template, changes),
        as_admin=True,
    )


def rule(**changes: Any) -> Body:
    """A rules list of one Monday rule with `changes`."""
    return lambda w: [{"weekday": "monday", "start": "09:00", "end": "12:00", **changes}]


def exception(**changes: Any) -> Body:
    """An exceptions list of one week's time off with `changes`."""
    base = {"kind": "time_off", "start": "2027-03-08T00:00:00Z", "end": "2027-03-15T00:00:00Z"}
    return lambda w: [{**base, **changes}]


def service(*fields: str, **changes: Any) -> Bad:
    """POST /api/v1/services, as the hub admin, with `changes`: always 422."""
    template = {
        "kind": "video_session",
        "name": "Brand new session",
        "duration_minutes": 30,
        "roles": ["psychiatric_consultant"],
    }
    return Bad(
        "POST",
        "/api/v1/services",
        422,
        "validation",
        fields,
        body=_fill(template, changes),
        as_admin=True,
    )


def consultant(*fields: str, **changes: Any) -> Bad:
    """POST /api/v1/consultants, as the hub admin, with `changes`: always 422."""
    template = {
        "name": "Dr New",
        "role": "psychiatric_consultant",
        "timezone": "America/Chicago",
        "licensed_states": ["VT"],
        "service_ids": [],
    }
    return Bad(
        "POST",
        "/api/v1/consultants",
        422,
        "validation",
        fields,
        body=_fill(template, changes),
        as_admin=True,
    )


BOOKINGS = "/api/v1/bookings"
RESCHEDULE = "/api/v1/bookings/{booking}/reschedule"
CANCEL = "/api/v1/bookings/{booking}/cancel"
MALFORMED = b'{"start": "2027-03-08T17:00:00Z",'
DEEP = b'{"reason": ' + b"[" * 1200 + b"]" * 1200 + b"}"
HUGE_INT = b'{"service_id": ' + b"9" * 5000 + b"}"
FORM = "application/x-www-form-urlencoded"


def cursor_of(start: str) -> str:
    """A bookings cursor as the API encodes one, for any start."""
    return base64.urlsafe_b64encode(f"{start}|{uuid.uuid4()}".encode()).decode()


def start_twice(w: World) -> list[tuple[str, str]]:
    """A slot query that gives `start` twice."""
    return [
        ("service_id", str(w.service_id)),
        ("start", "2027-03-08T00:00:00Z"),
        ("start", "2027-03-09T00:00:00Z"),
        ("end", "2027-03-10T00:00:00Z"),
        ("patient_state", "VT"),
    ]


async def send(client: TestClient, world: World, case: Bad) -> ClientResponse:
    """Send the bad request as the spoke (or the hub admin)."""
    headers = dict(world.admin_headers if case.as_admin else world.spoke_headers)
    path = case.path.format(booking=world.booking_id, consultant=world.consultant_id)
    if case.query is not None:
        return await client.request(case.method, path, params=case.query(world), headers=headers)
    if case.idempotency_key is not None:
        headers["Idempotency-Key"] = case.idempotency_key
    headers["Content-Type"] = case.content_type
    data = case.raw if case.raw is not None else json.dumps(case.body(world)).encode()
    return await client.request(case.method, path, data=data, headers=headers)


async def row_counts(conn: asyncpg.Connection) -> dict[str, int]:
    """How many rows every table holds."""
    return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}


async def open_starts(client: TestClient, world: World, day: str = "2027-03-08") -> list[str]:
    """Starts of the slots offered for the main service on one day."""
    window = (f"{day}T00:00:00Z", f"{day}T23:59:59Z")
    return await slot_starts(client, world.spoke_headers, world.service_id, *window)


async def assert_refused_and_nothing_changed(
    client: TestClient, conn: asyncpg.Connection, world: World, case: Bad
) -> None:
    """Send `case`; check the problem it gets, and that the database did not change."""
    before = await row_counts(conn)
    booked = await booking_row(conn, world.booking_id)
    assert OPEN in await open_starts(client, world)

    problem = await problem_of(await send(client, world, case), case.status)

    assert problem["type"] == f"/problems/{case.slug}"
    if case.fields:
        assert [e["field"] for e in problem["errors"]] == list(case.fields)
        assert all(e["detail"] for e in problem["errors"])
    if case.detail_has:
        assert case.detail_has in problem["detail"]
    # Not even the Idempotency-Key is kept: a refused request had no effect to protect.
    assert await row_counts(conn) == before
    assert await booking_row(conn, world.booking_id) == booked
    assert OPEN in await open_starts(client, world)
