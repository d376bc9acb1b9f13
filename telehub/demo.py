"""A realistic demo network: hub consultants in several zones, spokes in several states.

Every name here is invented. Patients are synthetic and marked as such in their MRNs.
"""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from consults import econsults, notes
from consults.note_store import Subject
from hub import consultants as hub_consultants
from scheduling import (
    availability,
    bookings,
    feeds,
    group_seats,
    groups,
    series,
    services,
    store,
    waitlist,
)
from scheduling.feed_store import FeedOwner
from scheduling.groups_schemas import GroupIn
from scheduling.series_schemas import Override, SeriesIn
from scheduling.slots import Period
from spokes import store as spokes_store
from telehub import demo_care, demo_consent, demo_fhir, mfa
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.clients import create_client
from telehub.errors import NotAnOpenSlot, SeriesConflict, SlotTaken
from telehub.sessions import enrol_authenticator
from telehub.settings import Settings
from telehub.users import create_user

SERVICES: list[dict[str, Any]] = [
    dict(
        kind="econsult",
        name="E-consult: OUD and co-occurring conditions",
        duration_minutes=30,
        turnaround_hours=48,
        horizon_days=60,
        roles=["psychiatric_consultant", "addiction_medicine_specialist"],
    ),
    dict(
        kind="video_session",
        name="Video visit: MOUD management",
        duration_minutes=30,
        buffer_after_minutes=10,
        min_notice_minutes=120,
        horizon_days=60,
        roles=["psychiatric_consultant", "addiction_medicine_specialist"],
    ),
    dict(
        kind="video_session",
        name="Video counseling session",
        duration_minutes=50,
        buffer_after_minutes=10,
        min_notice_minutes=240,
        horizon_days=60,
        roles=["telehealth_counselor", "peer_recovery_specialist"],
    ),
    dict(
        kind="case_review",
        name="Case review with care manager",
        duration_minutes=30,
        buffer_before_minutes=5,
        buffer_after_minutes=5,
        min_notice_minutes=60,
        horizon_days=60,
        roles=["psychiatric_consultant", "addiction_medicine_specialist"],
    ),
    dict(
        kind="group_session",
        name="Group counseling: MOUD support",
        duration_minutes=60,
        horizon_days=90,
        roles=["telehealth_counselor"],
    ),
]
GROUP_SERVICE = 4  # SERVICES' index of the group sessions

# (name, credentials, role, zone, licensed states, services by index, weekly hours)
CONSULTANTS: list[tuple[str, str, str, str, list[str], list[int], list[tuple[int, int]]]] = [
    (
        "Maya Okafor",
        "MD",
        "psychiatric_consultant",
        "America/New_York",
        ["VT", "NH", "ME", "NY", "MA"],
        [0, 1, 3],
        [(9, 12), (13, 17)],
    ),
    (
        "Daniel Reyes",
        "DO, FASAM",
        "addiction_medicine_specialist",
        "America/Chicago",
        ["TX", "NM", "OK"],
        [0, 1, 3],
        [(8, 12), (13, 16)],
    ),
    (
        "Priya Natarajan",
        "MD",
        "psychiatric_consultant",
        "America/Los_Angeles",
        ["WA", "OR", "CA", "NM"],
        [0, 1, 3],
        [(9, 12), (13, 17)],
    ),
    (
        "Samuel Whitehorse",
        "MD",
        "addiction_medicine_specialist",
        "America/Denver",
        ["NM", "AZ", "CO", "TX"],
        [0, 1],
        [(8, 11), (12, 16)],
    ),
    (
        "Jordan Ellis",
        "LICSW",
        "telehealth_counselor",
        "America/New_York",
        ["VT", "NH", "ME"],
        [2, 4],
        [(10, 13), (14, 19)],
    ),
    (
        "Alicia Moreno",
        "LPC",
        "telehealth_counselor",
        "America/Chicago",
        ["TX", "NM", "OK"],
        [2, 4],
        [(9, 12), (13, 18)],
    ),
    (
        "Sam Carter",
        "LADC",
        "telehealth_counselor",
        "America/Los_Angeles",
        ["WA", "OR"],
        [2],
        [(8, 12), (13, 16)],
    ),
    (
        "Renee Dubois",
        "CPRS",
        "peer_recovery_specialist",
        "America/New_York",
        ["VT", "NH", "ME", "NY"],
        [2],
        [(12, 18)],
    ),
]

# The hub's weekly groups, in the evening after the counselor's 1:1 hours (so the demo's slots
# are as before), each with patients of two clinics: one nearly full; one full with a waitlist,
# whose first waiting patient was given the seat a patient left from session 3 (so that clinic's
# dashboard shows a seat given from the waitlist) while two more still wait.
# (title, counselor, weekday, hour on their clock, capacity, count, seats by clinic, the
#  clinics of the waiting patients in the order they joined, (clinic, session) of a withdrawal)
DemoGroup = tuple[str, str, int, int, int, int, dict[str, int], list[str], tuple[str, int] | None]
GROUPS: list[DemoGroup] = [
    (
        "MOUD support group · Tuesdays 19:00",
        "Jordan Ellis",
        1,
        19,
        8,
        12,
        {"riverside-fm": 4, "northwoods-hc": 3},
        [],
        None,
    ),
    (
        "Recovery skills group · Thursdays 18:00",
        "Alicia Moreno",
        3,
        18,
        6,
        10,
        {"mesa-verde-chc": 3, "prairie-creek": 3},
        ["mesa-verde-chc", "prairie-creek", "mesa-verde-chc"],
        ("prairie-creek", 3),
    ),
]

SPOKES = [
    ("riverside-fm", "Riverside Family Medicine", "VT", "America/New_York"),
    ("mesa-verde-chc", "Mesa Verde Community Health", "NM", "America/Denver"),
    ("cascade-rural", "Cascade Rural Health Clinic", "WA", "America/Los_Angeles"),
    ("prairie-creek", "Prairie Creek Primary Care", "TX", "America/Chicago"),
    ("northwoods-hc", "Northwoods Health Center", "ME", "America/New_York"),
]

GIVEN = ["Avery", "Jamie", "Morgan", "Riley", "Casey", "Quinn", "Rowan", "Skyler", "Emerson"]
FAMILY = ["Testpatient", "Sampleton", "Demoford", "Fictus", "Placeholder", "Examplar"]


RUNNING_SINCE = timedelta(weeks=26)


def conference_days(today: date) -> list[date]:
    """The Thursday and Friday of the week three weeks after `today`: the demo's conference."""
    monday = today + timedelta(days=21 - today.weekday())
    return [monday + timedelta(days=3), monday + timedelta(days=4)]


def _password() -> str:
    return secrets.token_urlsafe(9)


async def is_empty(conn: asyncpg.Connection) -> bool:
    """True when the network has no spokes, consultants or services yet."""
    return not await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM spokes) OR EXISTS (SELECT 1 FROM consultants)"
        " OR EXISTS (SELECT 1 FROM services)"
    )


async def seed(
    conn: asyncpg.Connection,
    settings: Settings,
    *,
    now: datetime | None = None,
    authenticators: bool = True,
) -> dict[str, Any]:
    """Create the demo network in one transaction; return its logins and credentials.

    With `authenticators`, hub staff and consultants get a second factor whose key is in the
    result (demo only: a real user enrols their own on first sign-in). Without it (the key
    that seals them is not the server's) they enrol on first sign-in too.
    """
    now = now or datetime.now(UTC)

    async def login(user_id: int, email: str, password: str, role: str) -> dict[str, Any]:
        entry: dict[str, Any] = {"email": email, "password": password, "role": role}
        if authenticators and mfa.required(role, False):
            key, _ = await enrol_authenticator(conn, settings.secret_key, user_id)
            entry["totp_secret"] = key
        return entry

    video_url_template = settings.video_url_template
    rng = random.Random(2027)  # noqa: S311 - demo names, not secrets
    today = now.date()
    async with conn.transaction():
        made_services = [await services.create(conn, **s) for s in SERVICES]
        admin, admin_secret = await create_client(conn, name="Hub administration", kind="hub_admin")
        hub_users = []
        for email, name, role in (
            ("admin@hub.telehub.test", "Hub Administrator", "hub_admin"),
            ("coordinator@hub.telehub.test", "Hub Coordinator", "hub_coordinator"),
        ):
            password = _password()
            user = await create_user(conn, email=email, name=name, role=role, password=password)
            hub_users.append(await login(user.id, email, password, role))
        people = []
        for name, creds, role, zone, states, svc, hours in CONSULTANTS:
            consultant = await hub_consultants.create(
                conn,
                name=name,
                credentials=creds,
                role=role,
                timezone=zone,
                licensed_states=states,
                service_ids=[made_services[i].id for i in svc],
            )
            # A program that has been running for a while and keeps going: hours from half a
            # year back (the dashboard looks back twelve weeks) with no end, so the capacity
            # chart and the slot search look the same whatever day the demo is opened.
            rules = [
                store.RuleRow(day, time(a), time(b), None, today - RUNNING_SINCE, None)
                for day in range(5)
                for a, b in hours
            ]
            await store.replace_availability(conn, consultant.id, rules, [])
            client, secret = await create_client(
                conn,
                name=f"Hub scheduling for {name}",
                kind="consultant",
                consultant_id=consultant.id,
            )
            email = name.lower().replace(" ", ".") + "@hub.telehub.test"
            password = _password()
            user = await create_user(
                conn,
                email=email,
                name=name,
                role="consultant",
                password=password,
                consultant_id=consultant.id,
            )
            person_login = await login(user.id, email, password, "consultant")
            feed = await feeds.issue_token(
                conn, FeedOwner(consultant_id=consultant.id), secret_key=settings.secret_key
            )
            people.append(
                {
                    "feed_url": f"{settings.base_url}/feeds/consultants/{feed}.ics",
                    "id": consultant.id,
                    "name": f"{name}, {creds}",
                    "role": role,
                    "timezone": zone,
                    "licensed_states": states,
                    "client_id": client.client_id,
                    "client_secret": secret,
                    "users": [person_login],
                }
            )
        # Time off as a real calendar has it: two conference days three weeks out (Thursday
        # and Friday), 08:00 to 17:00 on the consultant's own clock.
        first, own_clock = people[0]["id"], ZoneInfo(CONSULTANTS[0][3])
        for day in conference_days(today):
            await conn.execute(
                "INSERT INTO availability_exceptions (consultant_id, kind, period, note) "
                "VALUES ($1, 'time_off', tstzrange($2, $3), 'Conference')",
                first,
                datetime.combine(day, time(8), own_clock),
                datetime.combine(day, time(17), own_clock),
            )
        clinics: list[dict[str, Any]] = []
        rosters: dict[str, tuple[Caller, list[spokes_store.Patient]]] = {}
        for slug, name, state, zone in SPOKES:
            spoke = await spokes_store.insert_spoke(
                conn, slug=slug, name=name, state=state, timezone=zone
            )
            client, secret = await create_client(
                conn, name=f"{name} EHR", kind="spoke", spoke_id=spoke.id
            )
            users = []
            for role, who in (("spoke_scheduler", "scheduler"), ("spoke_clinician", "clinician")):
                email, password = f"{who}@{slug}.telehub.test", _password()
                await create_user(
                    conn,
                    email=email,
                    name=f"{name} {who}",
                    role=role,
                    password=password,
                    spoke_id=spoke.id,
                )
                users.append({"email": email, "password": password, "role": role})
            patients = []
            for n in range(6):
                patient = await spokes_store.insert_patient(
                    conn,
                    spoke_id=spoke.id,
                    mrn=f"DEMO-{slug[:3].upper()}-{1001 + n}",
                    given_name=rng.choice(GIVEN),
                    family_name=rng.choice(FAMILY),
                    birth_date=date(
                        1960 + rng.randrange(45), rng.randrange(1, 13), rng.randrange(1, 28)
                    ),
                    state=state,
                )
                assert patient is not None
                patients.append(patient)
            part2 = await demo_consent.seed_clinic(
                conn,
                settings,
                spoke,
                client.client_id,
                patients,
                made_services,
                now,
                stories=not clinics,
            )
            booked = await _book_some(
                conn, spoke.id, made_services, patients, now, rng, video_url_template
            )
            caller = Caller("spoke", client.client_id, KIND_SCOPES["spoke"], spoke.id)
            rosters[slug] = (caller, patients)
            course = (
                await _weekly_counseling(
                    conn, caller, made_services[2], patients[1], now, video_url_template
                )
                if len(clinics) == 0
                else None
            )
            econsults_made = await _econsults(
                conn, settings, caller, made_services[0], patients, now, ask=len(clinics) == 0
            )
            waiting = (
                await _wait_for_an_earlier_visit(conn, caller, made_services[1], patients[2], now)
                if len(clinics) == 0
                else None
            )
            feed = await feeds.issue_token(
                conn, FeedOwner(spoke_id=spoke.id), secret_key=settings.secret_key
            )
            clinics.append(
                {
                    "id": spoke.id,
                    "name": name,
                    "slug": slug,
                    "state": state,
                    "timezone": zone,
                    "client_id": client.client_id,
                    "client_secret": secret,
                    "users": users,
                    "patients": len(patients),
                    "bookings": booked,
                    "econsults": econsults_made,
                    "series": course,
                    "waitlist": waiting,
                    "part2": part2,
                    "feed_url": f"{settings.base_url}/feeds/spokes/{feed}.ics",
                }
            )
        hub = Caller("hub_admin", admin.client_id, KIND_SCOPES["hub_admin"])
        made_groups = await _groups(
            conn,
            hub,
            made_services[GROUP_SERVICE],
            people,
            rosters,
            now,
            video_url_template,
            settings.base_url,
        )
        await demo_care.seed(conn, settings, clinics, made_services, people, now)
        # The first clinic's EHR also speaks FHIR as a SMART backend client (a JWKS, no secret).
        fhir_backend = await demo_fhir.seed(conn, settings, clinics[0])
    return {
        "hub_admin": {"client_id": admin.client_id, "client_secret": admin_secret},
        "groups": made_groups,
        "hub_users": hub_users,
        "spokes": clinics,
        "consultants": people,
        "services": [{"id": s.id, "kind": s.kind, "name": s.name} for s in made_services],
        "fhir_backend": fhir_backend,
    }


async def _wait_for_an_earlier_visit(
    conn: asyncpg.Connection,
    caller: Caller,
    service: store.Service,
    patient: spokes_store.Patient,
    now: datetime,
) -> str:
    """A 1:1 waitlist request: tell the clinic when a MOUD visit opens within ten days."""
    wanted = waitlist.Wanted(
        service_id=service.id,
        consultant_id=None,
        role="addiction_medicine_specialist",
        patient_state=patient.state,
        latest_date=(now + timedelta(days=10)).date(),
        patient_id=patient.id,
    )
    request = await waitlist.join(conn, caller, Trail(caller.actor), wanted, now=now)
    return str(request.id)


async def _book_some(
    conn: asyncpg.Connection,
    spoke_id: int,
    made: list[store.Service],
    patients: list[spokes_store.Patient],
    now: datetime,
    rng: random.Random,
    video_url_template: str,
) -> int:
    """Book a few of the open slots of the next two weeks through the real booking path."""
    window = Period(now + timedelta(days=1), now + timedelta(days=14))
    count = 0
    trail = Trail(f"demo:spoke-{spoke_id}", None, None)
    one_to_one = [s for s in made[1:] if s.kind != "group_session"]
    for service, patient in zip(one_to_one, patients, strict=False):
        slots = await availability.search(
            conn,
            service_id=service.id,
            window=window,
            consultant_id=None,
            patient_state=patient.state,
            now=now,
        )
        for slot in rng.sample(slots, min(2, len(slots))):
            new = bookings.NewBooking(
                service.id, slot.consultant_id, patient.id, slot.start, "Demo booking"
            )
            try:
                async with conn.transaction():
                    await bookings.book(
                        conn, spoke_id, trail, new, now=now, video_url_template=video_url_template
                    )
            except SlotTaken:  # another demo clinic took it first
                continue
            count += 1
    return count


async def _weekly_counseling(
    conn: asyncpg.Connection,
    caller: Caller,
    counseling: store.Service,
    patient: spokes_store.Patient,
    now: datetime,
    video_url_template: str,
) -> dict[str, Any] | None:
    """Twelve weekly counseling sessions for one patient, from a Tuesday 15:00 (clinic's time)
    at least two days out, booked as a scheduler would: sessions that are not open move to
    their first alternative."""
    spoke = await spokes_store.get_spoke(conn, bookings.spoke_of(caller))
    assert spoke is not None
    soon = (now + timedelta(days=2)).astimezone(spoke.zone).date()
    tuesday = soon + timedelta(days=(1 - soon.weekday()) % 7)
    trail = Trail(f"demo:spoke-{spoke.id}", None, None)
    ask = SeriesIn(
        service_id=counseling.id,
        role="telehealth_counselor",
        patient_id=patient.id,
        first_start=datetime.combine(tuesday, time(15), spoke.zone),
        repeat="weekly",
        count=12,
        reason="Demo: weekly counseling",
    )
    try:
        plan = await series.plan(conn, caller, trail, ask, now)
        chosen = [
            Override(occurrence=o.position, start=o.alternatives[0])
            for o in plan.not_open
            if o.alternatives and o.position > 1
        ]
        ask = ask.model_copy(update={"consultant_id": plan.consultant_id, "role": None})
        ask = ask.model_copy(update={"overrides": chosen})
        async with conn.transaction():
            booked = await series.book(
                conn, caller, trail, ask, now, video_url_template=video_url_template
            )
    except (SeriesConflict, NotAnOpenSlot):  # the demo's other bookings left no way through
        return None
    return {"id": str(booked.id), "sessions": len(booked.bookings)}


async def _groups(
    conn: asyncpg.Connection,
    hub: Caller,
    service: store.Service,
    people: list[dict[str, Any]],
    rosters: dict[str, tuple[Caller, list[spokes_store.Patient]]],
    now: datetime,
    video_url_template: str,
    base_url: str,
) -> list[dict[str, Any]]:
    """The hub's weekly groups, their seats taken by clinics' patients, and a waitlist."""
    made = []
    for title, counselor, weekday, hour, capacity, count, seated, waiting, withdrawn in GROUPS:
        person = next(p for p in people if p["name"].startswith(counselor))
        zone = ZoneInfo(person["timezone"])
        soon = (now + timedelta(days=2)).astimezone(zone).date()
        first = soon + timedelta(days=(weekday - soon.weekday()) % 7)
        body = GroupIn(
            service_id=service.id,
            consultant_id=person["id"],
            title=title,
            capacity=capacity,
            first_start=datetime.combine(first, time(hour), zone),
            repeat="weekly",
            count=count,
        )
        group = await groups.create(
            conn, hub, Trail("demo:hub"), body, now, video_url_template=video_url_template
        )
        enrolled: dict[str, list[uuid.UUID]] = {}
        for slug, n in seated.items():
            caller, patients = rosters[slug]
            for patient in patients[:n]:
                seat = await group_seats.enrol(
                    conn, caller, Trail(caller.actor), group.id, patient.id, None, now
                )
                enrolled.setdefault(slug, []).append(seat.id)
        next_up = dict(seated)  # each clinic's next patient to join the waitlist
        for slug in waiting:
            caller, patients = rosters[slug]
            patient, next_up[slug] = patients[next_up.get(slug, 0)], next_up.get(slug, 0) + 1
            await group_seats.wait(conn, caller, Trail(caller.actor), group.id, patient.id, now)
        if withdrawn:
            slug, position = withdrawn
            caller, _ = rosters[slug]
            await group_seats.withdraw(
                conn,
                caller,
                Trail(caller.actor),
                group.id,
                enrolled[slug][0],
                position,
                now,
                base_url=base_url,
            )
        made.append(
            {
                "id": str(group.id),
                "title": title,
                "capacity": capacity,
                "seats_taken": sum(seated.values()),
                "waiting": len(waiting) - (1 if withdrawn else 0),
            }
        )
    return made


CONTEXTS: list[dict[str, Any]] = [
    {
        "current_moud": {"medication": "buprenorphine_naloxone", "daily_dose_mg": 16},
        "phq9": 17,
        "gad7": 12,
        "co_occurring_diagnoses": ["Major depressive disorder, moderate"],
        "urine_drug_screen": {"results": {"buprenorphine": "positive", "fentanyl": "negative"}},
        "psychosocial_needs": ["transportation"],
    },
    {
        "current_moud": {"medication": "none"},
        "phq9": 9,
        "gad7": 15,
        "co_occurring_diagnoses": ["Generalized anxiety disorder", "Chronic low back pain"],
        "urine_drug_screen": {"results": {"fentanyl": "positive", "xylazine": "positive"}},
        "pain": {"present": True, "score": 6},
        "psychosocial_needs": ["housing", "food"],
    },
]
QUESTIONS = [
    "Persistent depressive symptoms on buprenorphine 16 mg: SSRI choice and dose changes?",
    "Fentanyl use with xylazine positive screen: approach to buprenorphine initiation?",
    "Anxiety with benzodiazepine request while on MOUD: safer alternatives?",
]
ANSWER = {
    "assessment": "Opioid use disorder in early remission on MOUD; moderate depression.",
    "recommendations": {
        "moud": "Continue buprenorphine-naloxone 16 mg daily.",
        "medications": "Start sertraline 50 mg daily; increase to 100 mg after 2 weeks.",
        "therapy": "Weekly counseling with the hub's telehealth counselor.",
        "referrals": "",
    },
    "follow_up": "Repeat PHQ-9 in 4 weeks; re-consult if no improvement.",
    "visit_recommended": False,
}


async def _econsults(
    conn: asyncpg.Connection,
    settings: Settings,
    caller: Caller,
    service: store.Service,
    patients: list[spokes_store.Patient],
    now: datetime,
    *,
    ask: bool,
) -> int:
    """A clinic's e-consults: one answered (its note signed), one queued, maybe one paused."""
    trail = Trail(caller.actor)
    made = []
    for i, patient in enumerate(patients[: 3 if ask else 2]):
        new = econsults.NewEconsult(
            patient_id=patient.id,
            service_id=service.id,
            referring_clinician="Dr. Demo Clinician, MD",
            question=QUESTIONS[i],
            clinical_context=CONTEXTS[i % 2],
            urgency="routine",
        )
        made.append(
            await econsults.submit(
                conn, caller, trail, new, settings=settings, now=now - timedelta(days=2 - i)
            )
        )
    answered = made[0]
    assert answered.consultant_id is not None
    hub = Caller(
        "consultant", "demo", KIND_SCOPES["consultant"], consultant_id=answered.consultant_id
    )
    draft = await notes.start_draft(conn, hub, trail, Subject(econsult_id=answered.id), ANSWER)
    await notes.sign(
        conn, hub, trail, draft.id, base_url=settings.base_url, now=now - timedelta(days=1)
    )
    if ask:
        paused = made[2]
        assert paused.consultant_id is not None
        asker = Caller(
            "consultant", "demo", KIND_SCOPES["consultant"], consultant_id=paused.consultant_id
        )
        await econsults.post_message(
            conn,
            asker,
            trail,
            paused.id,
            body="What dose of buprenorphine is the patient taking?",
            asks_clinic=True,
            settings=settings,
            now=now,
        )
    return len(made)
