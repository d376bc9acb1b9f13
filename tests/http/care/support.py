"""A patient with a record to read: sessions to come and past ones, e-consults, a signed note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from hub.store import Consultant
from scheduling.store import Service
from spokes.store import Patient
from tests import factories
from tests.factories import Clock, Network, SpokeUser, booking, booking_in_store, econsult

# The consultant works Mondays 09:00-12:00 in Los Angeles: 17:00, 18:00 and 19:00Z in March
# before daylight saving. The clock stands at Monday 1 March 2027, 15:00Z.
SOON = "2027-03-08T17:00:00Z"
LATER = "2027-03-08T19:00:00Z"
CANCELLED = "2027-03-08T18:00:00Z"
DONE = datetime(2027, 2, 22, 17, tzinfo=UTC)
UNRECORDED = datetime(2027, 2, 15, 17, tzinfo=UTC)


@dataclass(frozen=True)
class Record:
    """What was made for the patient, by name."""

    spoke: SpokeUser
    patient: Patient
    video: Service
    ask: Service
    consultant: Consultant
    soon: dict[str, Any]
    later: dict[str, Any]
    cancelled: dict[str, Any]
    done: str  # booking ids
    unrecorded: str
    first_econsult: dict[str, Any]
    second_econsult: dict[str, Any]
    note: dict[str, Any]


async def record_of(
    client: TestClient,
    conn: asyncpg.Connection,
    network: Network,
    clock: Clock,
    spoke: SpokeUser | None = None,
    patient: Patient | None = None,
) -> Record:
    """Three sessions to come (one cancelled), two past (one completed), two e-consults an
    hour apart, the first answered by a signed note; a second patient's booking beside them."""
    video = await network.service(name="Counseling session", duration_minutes=60)
    ask = await network.service(
        kind="econsult", name="OUD e-consult", turnaround_hours=8, roles=["psychiatric_consultant"]
    )
    consultant = await network.consultant([video, ask])
    spoke = spoke or await network.spoke()
    patient = patient or await network.patient(spoke, family_name="Quimby")
    other = await network.patient(spoke, family_name="Otherly")
    made = {}
    for name, start, who in (
        ("soon", SOON, patient),
        ("later", LATER, patient),
        ("cancelled", CANCELLED, patient),
    ):
        made[name] = await booking(
            client,
            spoke,
            service_id=video.id,
            consultant_id=consultant.id,
            patient_id=who.id,
            start=start,
        )
    await booking(
        client,
        spoke,
        service_id=video.id,
        consultant_id=consultant.id,
        patient_id=other.id,
        start="2027-03-15T16:00:00Z",
    )
    cancel = await client.post(
        f"/api/v1/bookings/{made['cancelled']['id']}/cancel",
        json={"reason": "Patient unwell"},
        headers=spoke.headers,
    )
    assert cancel.status == 200, await cancel.text()
    past = {}
    for name, start in (("done", DONE), ("unrecorded", UNRECORDED)):
        past[name] = await booking_in_store(
            conn,
            service_id=video.id,
            consultant_id=consultant.id,
            spoke_id=spoke.id,
            patient_id=patient.id,
            start=start,
        )
    hub = network.consultant_headers(consultant.id)
    went = await client.post(
        f"/api/v1/bookings/{past['done']}/outcome", json={"outcome": "completed"}, headers=hub
    )
    assert went.status == 200, await went.text()
    first = await econsult(
        client, spoke, patient_id=patient.id, service_id=ask.id, question="Which induction?"
    )
    clock.now += timedelta(hours=1)
    second = await econsult(
        client, spoke, patient_id=patient.id, service_id=ask.id, question="Taper plan?"
    )
    note = await factories.signed_note(client, hub, first["id"])
    return Record(
        spoke,
        patient,
        video,
        ask,
        consultant,
        made["soon"],
        made["later"],
        made["cancelled"],
        str(past["done"]),
        str(past["unrecorded"]),
        first,
        second,
        note,
    )
