"""No clinic can see another clinic's patient through any group endpoint, page, feed or note.

Two clinics' patients share a group, and a full group's waitlist; a seat freed by withdrawal
goes to clinic B's waiting patient; the counselor marks attendance and signs a note for each
attending patient. Then every response body clinic A can get (API, pages, its calendar feed,
its webhook payloads, its notes) is read, and clinic B's patients' ids, MRNs and names appear
in none of them; the per-patient note reaches only that patient's clinic. The hub's roster,
read the same way, does name them: the search is not empty-handed.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date

import asyncpg
from aiohttp.test_utils import TestClient

from consults import delivery, notes
from consults.note_store import Subject
from scheduling import attendance, group_seats
from scheduling.attendance_schemas import Mark
from scheduling.groups import Group
from spokes import store as spokes_store
from spokes.store import Patient
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.settings import Settings
from tests.factories import NOTE_SECTIONS, Network, SpokeUser, page_csrf, sign_in
from tests.factories.groups import enrol, group, later, spoke_caller
from tests.factories.network import give_consent

AFTER_FIRST = later(
    8
)  # Tuesday 9 March 2027 15:00 UTC: the first occurrence (8 Mar 18:00 NY) is over


async def _patient(
    network: Network, spoke: SpokeUser, mrn: str, given: str, family: str
) -> Patient:
    """A Vermont patient with names and an MRN found nowhere else in the app, with consent."""
    async with network.pool.acquire() as conn:
        made = await spokes_store.insert_patient(
            conn,
            spoke_id=spoke.id,
            mrn=mrn,
            given_name=given,
            family_name=family,
            birth_date=date(1979, 4, 5),
            state="VT",
        )
        assert made is not None
        # A patient with a TPO consent on file, as in a running program: their notes go to
        # their own clinic.
        await give_consent(conn, made)
    return made


@dataclass
class Scene:
    """Clinic A (ours) and clinic B (theirs) in one group and on a full group's waitlist."""

    a: SpokeUser
    b: SpokeUser
    mine: list[Patient]
    theirs: list[Patient]
    shared: Group  # open seats: A's mine[0] and B's theirs[0] enrolled
    full: Group  # 2 seats: B's theirs[1] and [2] left them to the waiting theirs[3] and mine[1]
    enrolments: dict[str, uuid.UUID]
    waits: dict[str, uuid.UUID]
    notes: dict[str, uuid.UUID]


async def _scene(network: Network, settings: Settings) -> Scene:
    a, b = await network.spoke(), await network.spoke()
    mine = [
        await _patient(network, a, f"OURS-{n}", f"Ourgiven{n}", f"Ourfamily{n}") for n in range(3)
    ]
    theirs = [
        await _patient(network, b, f"HIDDEN-MRN-{n}", f"Xanthippe{n}", f"Zebulonovich{n}")
        for n in range(4)
    ]
    shared = await group(network, capacity=4, count=3, title="MOUD support group")
    full = await group(network, capacity=2, count=3, title="Relapse prevention group")
    enrolments = {
        "mine": (await enrol(network, a, shared.id, mine[0].id)).id,
        "theirs": (await enrol(network, b, shared.id, theirs[0].id)).id,
        "theirs_full_1": (await enrol(network, b, full.id, theirs[1].id)).id,
        "theirs_full_2": (await enrol(network, b, full.id, theirs[2].id)).id,
    }
    waits = {}
    async with network.pool.acquire() as conn:
        for key, spoke, patient in (("theirs", b, theirs[3]), ("mine", a, mine[1])):
            async with conn.transaction():
                caller = spoke_caller(spoke)
                made = await group_seats.wait(
                    conn, caller, Trail(caller.actor), full.id, patient.id, later(0)
                )
            waits[key] = made.id
        # B withdraws both its patients from the full group: the first seat goes to B's
        # waiting patient, the second to A's (A is told, and must not learn who left).
        for key in ("theirs_full_1", "theirs_full_2"):
            async with conn.transaction():
                caller = spoke_caller(b)
                await group_seats.withdraw(
                    conn,
                    caller,
                    Trail(caller.actor),
                    full.id,
                    enrolments[key],
                    1,
                    later(0),
                    base_url=settings.base_url,
                )
        # The counselor marks both patients of the shared group attended and signs their notes.
        counselor = Caller(
            "consultant", "c", KIND_SCOPES["consultant"], consultant_id=shared.consultant_id
        )
        trail = Trail(counselor.actor)
        async with conn.transaction():
            await attendance.record(
                conn,
                counselor,
                trail,
                shared.id,
                1,
                [
                    Mark(enrolment_id=enrolments["mine"], attendance="attended"),
                    Mark(enrolment_id=enrolments["theirs"], attendance="attended"),
                ],
                now=AFTER_FIRST,
            )
        signed = {}
        for key in ("mine", "theirs"):
            seat = await conn.fetchval(
                "SELECT s.id FROM group_seats s JOIN group_occurrences o"
                " ON o.id = s.occurrence_id WHERE s.enrolment_id = $1 AND o.position = 1",
                enrolments[key],
            )
            async with conn.transaction():
                draft = await notes.start_draft(
                    conn, counselor, trail, Subject(group_seat_id=seat), NOTE_SECTIONS
                )
                await notes.sign(
                    conn, counselor, trail, draft.id, base_url=settings.base_url, now=AFTER_FIRST
                )
            signed[key] = draft.id
    return Scene(a, b, mine, theirs, shared, full, enrolments, waits, signed)


def _secrets(s: Scene) -> list[str]:
    """What clinic A must never read: clinic B's patients' ids, MRNs and names."""
    return [
        text for p in s.theirs for text in (str(p.id), p.id.hex, p.mrn, p.given_name, p.family_name)
    ]


def _leaks(bodies: dict[str, str], secrets: list[str]) -> dict[str, list[str]]:
    found = {
        where: [t for t in secrets if t.lower() in body.lower()] for where, body in bodies.items()
    }
    return {where: texts for where, texts in found.items() if texts}


async def _body(
    client: TestClient, bodies: dict[str, str], path: str, headers: dict[str, str] | None = None
) -> int:
    """GET a path as the client is (signed in, or with `headers`), keeping the body."""
    response = await client.get(path, headers=headers, allow_redirects=False)
    bodies[f"GET {path}"] = await response.text()
    return response.status


async def test_clinic_a_never_reads_clinic_bs_patients_through_groups(
    client: TestClient, network: Network, settings: Settings, conn: asyncpg.Connection
) -> None:
    s = await _scene(network, settings)
    secrets = _secrets(s)
    bodies: dict[str, str] = {}
    api = s.a.headers
    g1, g2 = s.shared.id, s.full.id
    window = "start=2027-03-01T00:00:00Z&end=2027-05-01T00:00:00Z"

    # The API, as clinic A's EHR.
    for path in (
        f"/api/v1/groups/{g1}",
        f"/api/v1/groups/{g2}",
        f"/api/v1/groups?service_id={s.shared.service_id}&{window}&patient_state=VT",
        f"/api/v1/groups/{g1}/seats/{s.enrolments['mine']}",
        f"/api/v1/groups/{g2}/waitlist/{s.waits['mine']}",
        f"/api/v1/patients/{s.mine[0].id}/care",
        f"/api/v1/patients/{s.mine[1].id}/care",
        "/api/v1/patients",
        "/api/v1/notes",
        f"/api/v1/notes/{s.notes['mine']}",
        "/api/v1/bookings",
        "/api/v1/waitlist",
    ):
        assert await _body(client, bodies, path, api) == 200, (path, bodies[f"GET {path}"])
    for path in (  # another clinic's records answer as missing ones
        f"/api/v1/groups/{g1}/seats/{s.enrolments['theirs']}",
        f"/api/v1/groups/{g2}/waitlist/{s.waits['theirs']}",
        f"/api/v1/notes/{s.notes['theirs']}",
    ):
        assert await _body(client, bodies, path, api) == 404, path
    attendance_path = f"/api/v1/groups/{g1}/occurrences/1/attendance"
    assert await _body(client, bodies, attendance_path, api) in (403, 404)
    full_refusal = await client.post(
        f"/api/v1/groups/{g2}/seats",
        json={"patient_id": str(s.mine[2].id)},
        headers={**s.a.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert full_refusal.status == 409
    bodies["POST seats (full)"] = await full_refusal.text()
    enrolled = await client.post(
        f"/api/v1/groups/{g1}/seats",
        json={"patient_id": str(s.mine[1].id)},
        headers={**s.a.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert enrolled.status == 201
    bodies["POST seats"] = await enrolled.text()
    # Clinic A's own changes answer with its own patients only.
    g1_seat = f"/api/v1/groups/{g1}/seats/{s.enrolments['mine']}"
    for path, body in (
        (f"{g1_seat}/excuse", {"position": 2}),
        (f"/api/v1/groups/{g2}/waitlist", {"patient_id": str(s.mine[2].id)}),
        (f"/api/v1/notes/{s.notes['mine']}/acknowledge", None),
        (f"{g1_seat}/withdraw", {"from": 3}),
    ):
        changed = await client.post(
            path, json=body, headers={**s.a.headers, "Idempotency-Key": str(uuid.uuid4())}
        )
        bodies[f"POST {path}"] = await changed.text()
        assert changed.status in (200, 201), (path, bodies[f"POST {path}"])
    mine_waiting = json.loads(bodies[f"POST /api/v1/groups/{g2}/waitlist"])["id"]
    left = await client.post(
        f"/api/v1/groups/{g2}/waitlist/{mine_waiting}/leave",
        headers={**s.a.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert left.status == 200
    bodies["POST leave"] = await left.text()
    assert await _body(client, bodies, "/api/v1/deliveries", api) in (200, 403)

    # Its calendar feed: counts of its own patients, never a name.
    feed = await client.post(f"/api/v1/spokes/{s.a.id}/feed", headers=s.a.headers)
    assert feed.status == 201
    feed_path = (await feed.json())["url"].removeprefix(settings.base_url)
    assert await _body(client, bodies, feed_path) == 200
    assert "of your patients" in bodies[f"GET {feed_path}"]

    # Its webhook payloads, as queued and with the full note.
    for row in await conn.fetch("SELECT payload FROM outbox WHERE spoke_id = $1", s.a.id):
        bodies[f"outbox {row['payload']['type']}"] = json.dumps(row["payload"])
    async with network.pool.acquire() as c:
        mine_note = await notes.get(c, spoke_caller(s.a), Trail("t"), s.notes["mine"])
    bodies["full note payload"] = json.dumps(
        delivery.note_event(mine_note, base_url=settings.base_url, full=True)
    )

    # The pages, as clinic A's scheduler.
    email, password = await network.user("spoke_scheduler", spoke_id=s.a.id)
    assert (await sign_in(client, email, password)).status == 303
    await page_csrf(client, "/spoke")
    for path in (
        "/spoke",
        "/spoke/groups?patient_state=VT",
        f"/spoke/groups?patient_id={s.mine[0].id}",
        f"/spoke/groups/{g1}",
        f"/spoke/groups/{g2}",
        f"/spoke/groups/{g2}?patient_id={s.mine[2].id}",
        "/spoke/waitlist",
        "/spoke/find",
        f"/spoke/patients/{s.mine[0].id}",
        f"/spoke/patients/{s.mine[1].id}",
        f"/spoke/patients/{s.mine[2].id}",
        "/spoke/book/patients?q=a",
        "/spoke/bookings",
        "/spoke/inbox",
        f"/spoke/notes/{s.notes['mine']}",
        f"/spoke/notes/{s.notes['mine']}/print",
    ):
        assert await _body(client, bodies, path) == 200, path
    assert await _body(client, bodies, f"/spoke/notes/{s.notes['theirs']}") == 404

    assert _leaks(bodies, secrets) == {}
    # Clinic A does read its own: the search would find a name that is there.
    assert "Ourfamily0" in bodies[f"GET /spoke/groups/{g1}"]
    assert "Ourfamily1" in bodies["GET /spoke"].split('id="seats"')[1]  # given B's freed seat
    assert str(s.mine[0].id) in bodies[f"GET /api/v1/groups/{g1}"]


async def test_the_hub_reads_the_whole_roster_and_each_note_reaches_its_patients_clinic_only(
    client: TestClient, network: Network, settings: Settings, conn: asyncpg.Connection
) -> None:
    s = await _scene(network, settings)
    roster = await client.get(
        f"/api/v1/groups/{s.shared.id}", headers=network.consultant_headers(s.shared.consultant_id)
    )
    assert roster.status == 200
    text = await roster.text()
    assert str(s.theirs[0].id) in text and str(s.mine[0].id) in text

    rows = await conn.fetch("SELECT spoke_id, event_type, payload FROM outbox ORDER BY id")
    by_clinic: dict[int, list[str]] = {}
    for row in rows:
        by_clinic.setdefault(row["spoke_id"], []).append(json.dumps(row["payload"]))
    notes_to = {
        spoke: [p for p in payloads if str(s.notes["mine"]) in p or str(s.notes["theirs"]) in p]
        for spoke, payloads in by_clinic.items()
    }
    assert [p for p in notes_to.get(s.a.id, []) if str(s.notes["theirs"]) in p] == []
    assert [p for p in notes_to.get(s.b.id, []) if str(s.notes["mine"]) in p] == []
    assert any(str(s.notes["mine"]) in p for p in notes_to[s.a.id])
    assert any(str(s.notes["theirs"]) in p for p in notes_to[s.b.id])
    # Each freed seat went to the next waiting patient; each clinic is told of its own.
    assigned = {
        r["spoke_id"]: json.dumps(r["payload"])
        for r in rows
        if r["event_type"] == "group.seat_assigned"
    }
    assert set(assigned) == {s.a.id, s.b.id}
    assert str(s.mine[1].id) in assigned[s.a.id] and str(s.theirs[3].id) in assigned[s.b.id]
    for secret in (*(str(p.id) for p in s.mine), "Ourfamily", "Ourgiven", "OURS-"):
        assert all(secret not in json.dumps(r["payload"]) for r in rows if r["spoke_id"] == s.b.id)
