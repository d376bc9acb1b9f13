"""A hub-and-spoke network for a test (services, consultants, spokes, patients, users), built
through the real stores, and the clock the app reads."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import asyncpg

from consults import part2
from hub import store as hub_store
from scheduling import services
from scheduling import store as scheduling_store
from spokes import consent_store
from spokes import store as spokes_store
from telehub import mfa
from telehub.auth import KIND_SCOPES, Caller, issue_access_token
from telehub.clients import create_client
from telehub.sessions import enrol_authenticator
from telehub.settings import Settings
from telehub.users import create_user

_counter = itertools.count(1)


TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


# The day a factory patient's consent was signed: before any clock a test sets.
CONSENT_SIGNED_ON = date(2000, 1, 1)


_PURPOSES = {
    "tpo": "treatment, payment and health care operations",
    "specific": "coordination of care with the patient's clinic",
    "counseling_notes": "counseling by the patient's care team",
}


async def give_consent(
    conn: asyncpg.Connection,
    patient: spokes_store.Patient,
    *,
    kind: str = "tpo",
    recipients: Sequence[int] | None = None,
    signed_on: date = CONSENT_SIGNED_ON,
    expires_on: date | None = None,
) -> consent_store.Consent:
    """Record a consent of the patient through the consent store: TPO (every kind of note but
    counseling notes) or counseling notes, to their own clinic unless `recipients` says."""
    disclose = (
        ["counseling_note"]
        if kind == "counseling_notes"
        else [c for c in part2.NOTE_CATEGORIES if c != "counseling_note"]
    )
    return await consent_store.insert(
        conn,
        spoke_id=patient.spoke_id,
        patient_id=patient.id,
        kind=kind,
        recipient_spoke_ids=list(recipients or [patient.spoke_id]),
        other_recipients=[],
        disclose=disclose,
        purpose=_PURPOSES[kind],
        signed_on=signed_on,
        expires_on=expires_on,
        recorded_by="test:factory",
        recorded_at=datetime.now(UTC),
    )


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
        self,
        spoke: SpokeUser,
        *,
        state: str = "VT",
        family_name: str = "Zzyzx",
        consent: str | None = "tpo",
    ) -> spokes_store.Patient:
        """A patient of the spoke, with a consent on file as in a running program: by default
        a TPO consent to their own clinic (signed CONSENT_SIGNED_ON, until revoked) covering
        every kind of note but counseling notes; `consent="counseling_notes"` a counseling-notes
        consent; `consent=None` none (their notes are held at signing)."""
        n = next(_counter)
        async with self.pool.acquire() as conn, conn.transaction():
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
            if consent is not None:
                await give_consent(conn, patient, kind=consent)
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
