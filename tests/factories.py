"""Small factories that build a hub-and-spoke network for a test, through the real stores."""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import asyncpg
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from hub import store as hub_store
from scheduling import booking_store, services
from scheduling import store as scheduling_store
from scheduling.slots import Period
from spokes import store as spokes_store
from telehub import mfa
from telehub.auth import KIND_SCOPES, Caller, issue_access_token
from telehub.clients import create_client
from telehub.keys import CLOCK, POOL
from telehub.sessions import enrol_authenticator
from telehub.settings import Settings
from telehub.users import create_user

_counter = itertools.count(1)
# A complete consult note: every section a signature needs.
NOTE_SECTIONS: dict[str, Any] = {
    "assessment": "Opioid use disorder, severe, with fentanyl use; moderate depression.",
    "recommendations": {
        "moud": "Low-dose buprenorphine initiation over 7 days.",
        "medications": "Sertraline 50 mg daily after induction.",
        "therapy": "Weekly counseling with the hub's telehealth counselor.",
        "referrals": "",
    },
    "follow_up": "Re-consult in 4 weeks or sooner if returns to use.",
    "visit_recommended": True,
}
# The authenticator of every test user who has one: `sign_in` computes its codes.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class Clock:
    """A clock the test sets; the app reads it for 'now'."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class SpokeUser:
    """A spoke with an API client and a bearer token for it."""

    id: int
    name: str
    client_id: str
    client_secret: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """Authorization headers for this spoke's client."""
        return {"Authorization": f"Bearer {self.token}"}


class Network:
    """Builds services, consultants, spokes and patients for one test."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings

    async def service(self, **fields: Any) -> scheduling_store.Service:
        """A service; a 60-minute video session by default."""
        values: dict[str, Any] = dict(
            kind="video_session",
            name=f"Service {next(_counter)}",
            duration_minutes=60,
            horizon_days=365,
            roles=["psychiatric_consultant", "telehealth_counselor"],
        )
        values.update(fields)
        async with self.pool.acquire() as conn:
            return await services.create(conn, **values)

    async def consultant(
        self,
        services: Sequence[scheduling_store.Service],
        *,
        timezone: str = "America/Los_Angeles",
        states: Sequence[str] = ("VT", "WA", "NY", "CA", "TX", "NM"),
        hours: Sequence[tuple[int, time, time]] = ((0, time(9), time(12)),),
        role: str = "psychiatric_consultant",
        exceptions: Sequence[scheduling_store.ExceptionRow] = (),
    ) -> hub_store.Consultant:
        """A consultant offering the services, with weekly hours (weekday, start, end)."""
        async with self.pool.acquire() as conn:
            consultant = await hub_store.insert_consultant(
                conn,
                name=f"Consultant {next(_counter)}",
                credentials="MD",
                role=role,
                timezone=timezone,
                licensed_states=states,
                service_ids=[s.id for s in services],
            )
            rules = [scheduling_store.RuleRow(d, a, b, None, None, None) for d, a, b in hours]
            await scheduling_store.replace_availability(conn, consultant.id, rules, exceptions)
        return consultant

    async def spoke(self, *, state: str = "VT", timezone: str = "America/New_York") -> SpokeUser:
        """A spoke clinic with an API client and a token carrying every spoke scope."""
        n = next(_counter)
        async with self.pool.acquire() as conn:
            spoke = await spokes_store.insert_spoke(
                conn, slug=f"spoke-{n}", name=f"Clinic {n}", state=state, timezone=timezone
            )
            client, secret = await create_client(
                conn, name=f"Clinic {n} EHR", kind="spoke", spoke_id=spoke.id
            )
        assert secret is not None
        caller = Caller("spoke", client.client_id, KIND_SCOPES["spoke"], spoke.id)
        return SpokeUser(
            spoke.id,
            spoke.name,
            client.client_id,
            secret,
            issue_access_token(self.settings, caller),
        )

    async def patient(
        self, spoke: SpokeUser, *, state: str = "VT", family_name: str = "Zzyzx"
    ) -> spokes_store.Patient:
        """A patient of the spoke."""
        n = next(_counter)
        async with self.pool.acquire() as conn:
            patient = await spokes_store.insert_patient(
                conn,
                spoke_id=spoke.id,
                mrn=f"MRN-{n:06d}",
                given_name=f"Given{n}",
                family_name=family_name,
                birth_date=date(1980, 1, 1),
                state=state,
            )
        assert patient is not None
        return patient

    async def user(
        self,
        role: str,
        *,
        spoke_id: int | None = None,
        consultant_id: int | None = None,
        password: str = "correct horse battery staple",
        authenticator: bool | None = None,
    ) -> tuple[str, str]:
        """A web user; returns (email, password). Those whose role needs a second factor (or
        anyone, with authenticator=True) have one enrolled with TOTP_SECRET."""
        email = f"{role}-{next(_counter)}@telehub.test"
        async with self.pool.acquire() as conn:
            user = await create_user(
                conn,
                email=email,
                name=f"{role.replace('_', ' ').title()} Person",
                role=role,
                password=password,
                spoke_id=spoke_id,
                consultant_id=consultant_id,
            )
            if authenticator if authenticator is not None else mfa.required(role, False):
                await enrol_authenticator(conn, self.settings.secret_key, user.id, TOTP_SECRET)
        return email, password

    def hub_admin_headers(self) -> dict[str, str]:
        """Authorization headers for a hub admin."""
        caller = Caller("hub_admin", "hub-test", KIND_SCOPES["hub_admin"])
        return {"Authorization": f"Bearer {issue_access_token(self.settings, caller)}"}

    def consultant_headers(self, consultant_id: int) -> dict[str, str]:
        """Authorization headers for a hub system acting for one consultant."""
        caller = Caller(
            "consultant",
            f"c-{consultant_id}",
            KIND_SCOPES["consultant"],
            consultant_id=consultant_id,
        )
        return {"Authorization": f"Bearer {issue_access_token(self.settings, caller)}"}


async def slot_starts(
    client: TestClient,
    headers: dict[str, str],
    service_id: int,
    start: str = "2027-03-08T00:00:00Z",
    end: str = "2027-03-09T00:00:00Z",
    patient_state: str = "VT",
) -> list[str]:
    """The start times GET /api/v1/slots offers (asserting it answers 200)."""
    response = await client.get(
        "/api/v1/slots",
        params={
            "service_id": service_id,
            "start": start,
            "end": end,
            "patient_state": patient_state,
        },
        headers=headers,
    )
    assert response.status == 200, await response.text()
    return [s["start"] for s in (await response.json())["slots"]]


async def racing_bookings(
    network: Network, service_id: int, consultant_id: int, start: datetime, count: int
) -> list[tuple[dict[str, object], dict[str, str]]]:
    """(body, headers) of `count` bookings of one time, each from its own new spoke."""
    attempts = []
    for _ in range(count):
        spoke = await network.spoke()
        patient = await network.patient(spoke)
        body = booking_body(
            service_id=service_id, consultant_id=consultant_id, patient_id=patient.id, start=start
        )
        attempts.append((body, {**spoke.headers, "Idempotency-Key": uuid.uuid4().hex}))
    return attempts


def booking_body(
    *,
    service_id: int,
    consultant_id: int,
    patient_id: object,
    start: str | datetime,
    reason: str | None = None,
) -> dict[str, object]:
    """The JSON body of POST /api/v1/bookings."""
    body: dict[str, object] = {
        "service_id": service_id,
        "consultant_id": consultant_id,
        "patient_id": str(patient_id),
        "start": start if isinstance(start, str) else start.isoformat(),
    }
    if reason is not None:
        body["reason"] = reason
    return body


async def book(
    client: TestClient, spoke: SpokeUser, body: Mapping[str, object], *, key: str | None = None
) -> ClientResponse:
    """POST /api/v1/bookings as the spoke under the Idempotency-Key (default: a fresh one);
    the response as it comes, refusals included."""
    headers = {**spoke.headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return await client.post("/api/v1/bookings", json=dict(body), headers=headers)


async def booking(
    client: TestClient,
    spoke: SpokeUser,
    *,
    service_id: int,
    consultant_id: int,
    patient_id: object,
    start: str | datetime,
    reason: str | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """A booking the spoke makes through the API (asserting 201); the booking as it answers."""
    body = booking_body(
        service_id=service_id,
        consultant_id=consultant_id,
        patient_id=patient_id,
        start=start,
        reason=reason,
    )
    response = await book(client, spoke, body, key=key)
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def booking_in_store(
    conn: asyncpg.Connection,
    *,
    service_id: int,
    consultant_id: int,
    spoke_id: int,
    patient_id: uuid.UUID,
    start: datetime,
    hours: int = 1,
) -> uuid.UUID:
    """A booking written through the booking store, which (unlike the API) takes any time,
    past ones and those outside the consultant's hours included; its id."""
    period = Period(start, start + timedelta(hours=hours))
    made = await booking_store.insert_booking(
        conn,
        service_id=service_id,
        consultant_id=consultant_id,
        spoke_id=spoke_id,
        patient_id=patient_id,
        period=period,
        blocked=period,
        reason="",
        video_link=None,
        created_by="test",
    )
    return made.id


async def booking_row(conn: asyncpg.Connection, booking_id: str) -> dict[str, Any]:
    """The stored booking, every column."""
    row = await conn.fetchrow("SELECT * FROM bookings WHERE id = $1", uuid.UUID(booking_id))
    assert row is not None
    return dict(row)


async def econsult(
    client: TestClient,
    spoke: SpokeUser,
    *,
    patient_id: object,
    service_id: int,
    question: str = "MOUD choice?",
    referring_clinician: str = "Dr. Park",
    **fields: object,
) -> dict[str, Any]:
    """An e-consult the spoke submits through the API (asserting 201), with any other fields
    of the body (urgency, clinical_context, review); the e-consult as it answers."""
    response = await client.post(
        "/api/v1/econsults",
        json={
            "patient_id": str(patient_id),
            "service_id": service_id,
            "referring_clinician": referring_clinician,
            "question": question,
            **fields,
        },
        headers=spoke.headers,
    )
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def draft_note(
    client: TestClient,
    hub: Mapping[str, str],
    econsult_id: str,
    sections: Mapping[str, Any] = NOTE_SECTIONS,
) -> dict[str, Any]:
    """A draft answer to the e-consult, written through the API with the consultant's `hub`
    headers (asserting 201); the note as it answers."""
    response = await client.post(
        f"/api/v1/econsults/{econsult_id}/notes",
        json={"sections": dict(sections)},
        headers=dict(hub),
    )
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def sign_note(client: TestClient, hub: Mapping[str, str], note_id: str) -> dict[str, Any]:
    """Sign the draft through the API (asserting 200); the signed note."""
    response = await client.post(f"/api/v1/notes/{note_id}/sign", headers=dict(hub))
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def signed_note(
    client: TestClient,
    hub: Mapping[str, str],
    econsult_id: str,
    sections: Mapping[str, Any] = NOTE_SECTIONS,
) -> dict[str, Any]:
    """The consultant's answer to the e-consult, drafted and signed through the API."""
    draft = await draft_note(client, hub, econsult_id, sections)
    return await sign_note(client, hub, draft["id"])


SIGNIN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def sign_in(client: TestClient, email: str, password: str) -> ClientResponse:
    """Sign in through the real form (its CSRF cookie included), and the code page after it
    for a user with an authenticator; the client keeps the cookie."""
    form = await (await client.get("/signin")).text()
    match = SIGNIN_TOKEN.search(form)
    assert match, "the sign-in form has a CSRF token"
    response = await client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": match.group(1)},
        allow_redirects=False,
    )
    if response.status == 303 and response.headers["Location"] == "/signin/code":
        return await enter_code(client, await fresh_code(client.app, email))
    return response


async def enter_code(client: TestClient, code: str) -> ClientResponse:
    """Type a code (authenticator or recovery) on the sign-in code page."""
    page = await (await client.get("/signin/code")).text()
    match = SIGNIN_TOKEN.search(page)
    assert match, "the code page has a form with a CSRF token"
    return await client.post(
        "/signin/code",
        data={"code": code, "csrf_token": match.group(1)},
        allow_redirects=False,
    )


async def fresh_code(app: web.Application, email: str, secret: str = TOTP_SECRET) -> str:
    """The authenticator's code for the first time step near the app's clock not used yet
    (a test clock stands still, and each step signs in once)."""
    async with app[POOL].acquire() as conn:
        last = await conn.fetchval(
            "SELECT m.last_step FROM user_mfa m JOIN users u ON u.id = m.user_id"
            " WHERE u.email = $1",
            email,
        )
    current = mfa.step_of(app[CLOCK]())
    step = max(current - mfa.WINDOW, (last or 0) + 1)
    assert step <= current + mfa.WINDOW, f"{email} signed in more than 3 times in one time step"
    return mfa.code_at(secret, step)


async def page_csrf(client: TestClient, path: str) -> str:
    """The CSRF token a signed-in page carries in its forms."""
    match = SIGNIN_TOKEN.search(await (await client.get(path)).text())
    assert match, f"{path} has a form with a CSRF token"
    return match.group(1)


def iso(value: datetime) -> str:
    """RFC 3339 text of an aware datetime."""
    return value.isoformat()


def day_window(start: datetime, days: int = 1) -> dict[str, str]:
    """start/end query parameters covering `days` days from `start`."""
    return {"start": iso(start), "end": iso(start + timedelta(days=days))}
