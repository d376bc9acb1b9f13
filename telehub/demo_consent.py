"""The demo's Part 2 consents (42 CFR part 2), recorded through the clinics' own consent
functions so the demo exercises the real gate.

Every demo patient has a consent for treatment, payment and health care operations (`tpo`),
signed weeks ago and in force until revoked, before any note about them is signed, except at
the first clinic (the one a visitor signs in to first), which shows each other story:

- a patient with no consent on file whose e-consult answer is therefore HELD (the clinic's
  dashboard says a note is waiting for the patient's consent; the hub's deliveries page shows
  the held event and what is missing);
- a patient who revoked their consent three weeks ago, and whose next answer is held too;
- a patient with a counseling-notes consent beside the tpo one, and a counseling note from a
  past counseling session queued to the clinic under it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from consults import econsults, notes
from consults.note_store import Subject
from scheduling import availability, bookings, store
from scheduling.slots import Period
from spokes import consents
from spokes import store as spokes_store
from spokes.consent_store import Consent
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.errors import SlotTaken
from telehub.settings import Settings

SIGNED = timedelta(weeks=8)  # how long ago the demo's consents were signed
COUNSELING_SIGNED = timedelta(weeks=6)
REVOKED_SIGNED, REVOKED = timedelta(weeks=10), timedelta(weeks=3)
# The first clinic's roster (demo.py makes six patients a clinic): patients[0] has the
# clinic's answered e-consult, patients[1] the weekly counseling course.
COUNSELED, REVOKING, WITHOUT = 1, 4, 5

HELD_QUESTION = "Alcohol use alongside buprenorphine: is naltrexone an option later?"
HELD_ANSWER = {
    "assessment": "Opioid use disorder on buprenorphine; risky alcohol use.",
    "recommendations": {
        "moud": "Continue buprenorphine-naloxone; do not start naltrexone while on it.",
        "medications": "Offer acamprosate 666 mg three times daily for alcohol use.",
        "therapy": "Brief intervention for alcohol at each visit.",
        "referrals": "",
    },
    "follow_up": "Re-consult if alcohol use continues after 8 weeks.",
    "visit_recommended": False,
}
COUNSELING_NOTE = {
    "assessment": "Counseling session 4: cravings lower; coping plan for weekends reviewed.",
    "recommendations": {
        "moud": "",
        "medications": "",
        "therapy": "Continue weekly counseling; practise urge surfing between sessions.",
        "referrals": "",
    },
    "follow_up": "Next counseling session as booked.",
    "visit_recommended": False,
}


def _today(spoke: spokes_store.Spoke, now: datetime) -> date:
    return now.astimezone(spoke.zone).date()


async def tpo(
    conn: asyncpg.Connection,
    settings: Settings,
    caller: Caller,
    zone: ZoneInfo,
    patient_id: uuid.UUID,
    *,
    at: datetime,
) -> Consent:
    """A tpo consent for the patient's own clinic, signed and recorded by the clinic at `at`
    (its day in the clinic's `zone`), until revoked."""
    recorded = await consents.record(
        conn,
        caller,
        Trail(caller.actor),
        patient_id,
        kind="tpo",
        signed_on=at.astimezone(zone).date(),
        expires_on=None,
        base_url=settings.base_url,
        now=at,
    )
    return recorded.consent


async def seed_clinic(
    conn: asyncpg.Connection,
    settings: Settings,
    spoke: spokes_store.Spoke,
    client_id: str,
    patients: list[spokes_store.Patient],
    services: list[store.Service],
    now: datetime,
    *,
    stories: bool,
) -> dict[str, Any]:
    """Record the clinic's consents (before any note about its patients is signed); with
    `stories`, also the held, revoked and counseling stories. Returns the clinic's `part2`
    entry for the demo's JSON: the held note's patient id (None when nothing is held)."""
    caller = Caller("spoke", client_id, KIND_SCOPES["spoke"], spoke.id)
    for n, patient in enumerate(patients):
        if not stories or n not in (REVOKING, WITHOUT):
            await tpo(conn, settings, caller, spoke.zone, patient.id, at=now - SIGNED)
    if not stories:
        return {"held_note_patient_id": None}
    econsult, counseling = services[0], services[2]
    await _counseling(conn, settings, caller, spoke, patients[COUNSELED], counseling, now)
    revoked = await tpo(
        conn, settings, caller, spoke.zone, patients[REVOKING].id, at=now - REVOKED_SIGNED
    )
    await consents.revoke(
        conn,
        caller,
        Trail(caller.actor),
        revoked.id,
        revoked_on=_today(spoke, now - REVOKED),
        how="written",
        base_url=settings.base_url,
        now=now - REVOKED,
    )
    for n in (REVOKING, WITHOUT):
        await _answered(conn, settings, caller, patients[n], econsult, now)
    return {
        "held_note_patient_id": str(patients[WITHOUT].id),
        "revoked_consent_patient_id": str(patients[REVOKING].id),
        "counseling_consent_patient_id": str(patients[COUNSELED].id),
    }


async def _answered(
    conn: asyncpg.Connection,
    settings: Settings,
    caller: Caller,
    patient: spokes_store.Patient,
    service: store.Service,
    now: datetime,
) -> None:
    """An e-consult asked three days ago and answered yesterday (held: no consent in force)."""
    new = econsults.NewEconsult(
        patient_id=patient.id,
        service_id=service.id,
        referring_clinician="Dr. Demo Clinician, MD",
        question=HELD_QUESTION,
        clinical_context={"current_moud": {"medication": "buprenorphine_naloxone"}},
        urgency="routine",
    )
    trail = Trail(caller.actor)
    asked = await econsults.submit(
        conn, caller, trail, new, settings=settings, now=now - timedelta(days=3)
    )
    assert asked.consultant_id is not None
    hub = Caller("consultant", "demo", KIND_SCOPES["consultant"], consultant_id=asked.consultant_id)
    draft = await notes.start_draft(
        conn, hub, Trail("demo:hub"), Subject(econsult_id=asked.id), HELD_ANSWER
    )
    await notes.sign(
        conn,
        hub,
        Trail("demo:hub"),
        draft.id,
        base_url=settings.base_url,
        now=now - timedelta(days=1),
    )


async def _counseling(
    conn: asyncpg.Connection,
    settings: Settings,
    caller: Caller,
    spoke: spokes_store.Spoke,
    patient: spokes_store.Patient,
    service: store.Service,
    now: datetime,
) -> None:
    """A counseling-notes consent beside the patient's tpo one, a counseling session nine
    days ago and the counselor's counseling note, queued to the clinic under that consent."""
    await consents.record(
        conn,
        caller,
        Trail(caller.actor),
        patient.id,
        kind="counseling_notes",
        purpose="Coordinate counseling with the clinic's treatment of opioid use disorder",
        signed_on=_today(spoke, now - COUNSELING_SIGNED),
        expires_on=None,
        base_url=settings.base_url,
        now=now - COUNSELING_SIGNED,
    )
    booked_at = now - timedelta(days=12)
    slots = await availability.search(
        conn,
        service_id=service.id,
        window=Period(now - timedelta(days=10), now - timedelta(days=8)),
        consultant_id=None,
        patient_state=patient.state,
        now=booked_at,
    )
    trail = Trail(caller.actor)
    for slot in slots:
        new = bookings.NewBooking(
            service.id, slot.consultant_id, patient.id, slot.start, "Demo: counseling"
        )
        try:
            async with conn.transaction():
                session = await bookings.book(
                    conn,
                    spoke.id,
                    trail,
                    new,
                    now=booked_at,
                    video_url_template=settings.video_url_template,
                )
        except SlotTaken:
            continue
        break
    else:  # no counselor had a time: the demo keeps the consent without its note
        return
    hub = Caller(
        "consultant", "demo", KIND_SCOPES["consultant"], consultant_id=session.consultant_id
    )
    after = session.end + timedelta(minutes=5)
    hub_trail = Trail("demo:hub")
    await bookings.record_outcome(conn, hub, hub_trail, session.id, outcome="completed", now=after)
    draft = await notes.start_draft(
        conn, hub, hub_trail, Subject(booking_id=session.id), COUNSELING_NOTE, kind="counseling"
    )
    await notes.sign(conn, hub, hub_trail, draft.id, base_url=settings.base_url, now=after)
