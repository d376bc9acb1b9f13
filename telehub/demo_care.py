"""The demo's collaborative care registry: a care manager per clinic and a caseload that shows
every part of it, written through the registry's and the case review's own functions so the
demo exercises the real rules.

Each clinic gets the same twelve open episodes (both programs) and one closed in remission,
dated back from the demo's "now" so the caseload never goes stale: patients improving to
remission and patients not improving after ten weeks, a PHQ-9 whose item 9 raises the safety
flag, an OUD patient missing doses and one with an unexpected substance on a screen, a new
episode and one never reviewed. Contacts in the previous month give the billing report a row
of each code (99492, 99493, 99494, G2214) and a patient under 16 minutes; the current month
has a contact for everyone still in touch. A case review two weeks ago recorded a
recommendation for each reviewed patient (a signed note in the clinic's inbox), and one in the
coming days has a full agenda.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from care import registry, review
from care.store import Episode
from scheduling import availability, bookings, store
from scheduling.booking_store import Booking
from scheduling.slots import Period
from spokes import store as spokes_store
from telehub import demo_consent
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.errors import SlotTaken
from telehub.settings import Settings
from telehub.users import create_user

GIVEN = ["Harper", "Logan", "Sage", "Parker", "Reese", "Finley", "Dakota", "Hayden"]
FAMILY = ["Registrytest", "Caseloadson", "Demoworth", "Samplefield"]
TREATING = "Dr. Demo Clinician, MD"
MEDICATION = "buprenorphine_naloxone"
DOSE_MG = 16.0
# The previous month's counted contacts are put on these days of it (all after the 10th, when
# the episode in its first month began), so each patient's total is the same whatever day the
# demo is opened.
LAST_MONTH_DAYS = (11, 15, 19, 23)


@dataclass(frozen=True, slots=True)
class Plan:
    """One demo episode: when it began, its scores, and what the care manager did."""

    why: str  # what it shows, for whoever reads this table
    program: str
    began: int | None  # days before today; None: the 10th of the previous month
    phq9: tuple[int, ...] = ()  # totals, oldest first, spread from the start to 3 days ago
    gad7: tuple[int, ...] = ()
    item9: int = 0  # the latest PHQ-9's item 9
    moud: tuple[str, ...] = ()  # adherence at each check, oldest first
    screens: tuple[dict[str, str], ...] = ()  # urine drug screens, oldest first
    reviewed: bool = True  # has a recommendation from the past case review
    last_month: tuple[int, ...] = ()  # minutes of counted contacts in the previous month
    this_month: int | None = 20  # minutes of a contact this month; None: no recent contact
    same_patient_as: int | None = None  # the index of another plan whose patient this is
    ended: int | None = None  # days before today it ended in remission


CLEAN = {"buprenorphine": "positive", "fentanyl": "negative", "methamphetamine": "negative"}
FENTANYL = {"buprenorphine": "positive", "fentanyl": "positive", "methamphetamine": "negative"}

PLANS: list[Plan] = [
    Plan(
        "improving to remission",
        "collaborative_care",
        16 * 7,
        phq9=(18, 15, 11, 8, 6, 4, 3),
        gad7=(14, 11, 8, 5, 4),
        last_month=(20, 15),
    ),
    Plan(
        "responding, G2214 last month",
        "collaborative_care",
        9 * 7,
        phq9=(16, 12, 10, 7),
        gad7=(12, 9, 6),
        last_month=(20,),
    ),
    Plan(
        "not improving after 14 weeks, 99493 and 99494 last month",
        "collaborative_care",
        14 * 7,
        phq9=(17, 18, 16, 15, 16, 15),
        gad7=(15, 15, 14, 14),
        last_month=(30, 25, 20, 15),
    ),
    Plan(
        "not improving on anxiety after 12 weeks",
        "collaborative_care",
        12 * 7,
        phq9=(11, 9, 8, 8),
        gad7=(16, 15, 15, 14, 13),
        last_month=(15, 10),
    ),
    Plan(
        "safety: item 9 on the latest PHQ-9",
        "collaborative_care",
        11 * 7,
        phq9=(19, 17, 18, 20),
        gad7=(13, 12),
        item9=1,
        last_month=(25, 15),
    ),
    Plan(
        "OUD, missed doses",
        "oud",
        20 * 7,
        phq9=(12, 10, 11),
        moud=("taking_as_prescribed", "taking_as_prescribed", "missed_doses"),
        screens=(CLEAN, CLEAN),
        last_month=(20,),
    ),
    Plan(
        "OUD, fentanyl on the latest screen",
        "oud",
        10 * 7,
        moud=("taking_as_prescribed", "taking_as_prescribed"),
        screens=(CLEAN, FENTANYL),
        last_month=(30, 15),
    ),
    Plan(
        "OUD, stable for half a year; under 16 minutes last month",
        "oud",
        26 * 7,
        moud=("taking_as_prescribed",) * 4,
        screens=(CLEAN, CLEAN, CLEAN),
        last_month=(10,),
    ),
    Plan(
        "new: began five days ago",
        "collaborative_care",
        5,
        phq9=(14,),
        gad7=(11,),
        reviewed=False,
    ),
    Plan(
        "never reviewed; its first month was last month (99492)",
        "collaborative_care",
        None,
        phq9=(15, 13),
        gad7=(10, 9),
        reviewed=False,
        last_month=(25, 15),
    ),
    Plan(
        "no contact for five weeks",
        "collaborative_care",
        9 * 7,
        phq9=(13, 11),
        last_month=(),
        this_month=None,
    ),
    Plan(
        "the OUD patient's depression care too (both programs)",
        "collaborative_care",
        18 * 7,
        phq9=(16, 12, 9, 7),
        same_patient_as=5,
    ),
    Plan(
        "closed in remission",
        "collaborative_care",
        30 * 7,
        phq9=(19, 14, 9, 6, 4, 3),
        gad7=(12, 8, 4),
        ended=21,
    ),
]


def items_for(total: int, count: int, *, item9: int = 0) -> list[int]:
    """Answers (each 0..3) adding up to `total`; for a PHQ-9, item 9 is `item9`."""
    assert 0 <= total - item9 <= 3 * (count - (count == 9)), "no such answers"
    answers = [0] * count
    if count == 9:
        answers[8] = item9
    left = total - sum(answers)
    free = list(range(8 if count == 9 else count))
    while left > 0:
        for i in free:
            if left and answers[i] < 3:
                answers[i] += 1
                left -= 1
    return answers


def _spread(began: date, until: date, n: int) -> list[date]:
    """n days from `began` to `until`, evenly (one: the start)."""
    if n <= 1:
        return [began][:n]
    span = max(0, (until - began).days)
    return [began + timedelta(days=round(i * span / (n - 1))) for i in range(n)]


def _consultant(people: list[dict[str, Any]], role: str, state: str) -> dict[str, Any] | None:
    of_role = [p for p in people if p["role"] == role]
    licensed = [p for p in of_role if state in p["licensed_states"]]
    chosen = licensed or of_role
    return chosen[0] if chosen else None


async def seed(
    conn: asyncpg.Connection,
    settings: Settings,
    clinics: list[dict[str, Any]],
    services: list[store.Service],
    people: list[dict[str, Any]],
    now: datetime,
) -> None:
    """Each clinic's care manager (added to its `users`) and caseload; its `registry` entry
    says what was made."""
    case_review = next(s for s in services if s.kind == "case_review")
    for clinic in clinics:
        clinic["registry"] = await _clinic(conn, settings, clinic, case_review, people, now)


async def _clinic(
    conn: asyncpg.Connection,
    settings: Settings,
    clinic: dict[str, Any],
    case_review: store.Service,
    people: list[dict[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    spoke_id, slug, state = clinic["id"], clinic["slug"], clinic["state"]
    zone = ZoneInfo(clinic["timezone"])
    today = now.astimezone(zone).date()
    email, password = f"care.manager@{slug}.telehub.test", secrets.token_urlsafe(9)
    manager = await create_user(
        conn,
        email=email,
        name=f"{clinic['name']} care manager",
        role="care_manager",
        password=password,
        spoke_id=spoke_id,
    )
    clinic["users"].append({"email": email, "password": password, "role": "care_manager"})
    caller = Caller(
        "spoke", clinic["client_id"], KIND_SCOPES["spoke"], spoke_id, user_id=manager.id
    )
    trail = Trail(caller.actor)
    psychiatrist = _consultant(people, "psychiatric_consultant", state)
    addiction = _consultant(people, "addiction_medicine_specialist", state) or psychiatrist
    assert psychiatrist is not None and addiction is not None
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)

    episodes: list[Episode] = []
    for n, plan in enumerate(PLANS):
        began = (
            last_month.replace(day=10) if plan.began is None else today - timedelta(days=plan.began)
        )
        if plan.same_patient_as is not None:
            patient_id = episodes[plan.same_patient_as].patient_id
        else:
            patient = await spokes_store.insert_patient(
                conn,
                spoke_id=spoke_id,
                mrn=f"DEMO-{slug[:3].upper()}-{2001 + n}",
                given_name=GIVEN[n % len(GIVEN)],
                family_name=FAMILY[n % len(FAMILY)],
                birth_date=date(1962 + 3 * n, 1 + n % 12, 3 + n),
                state=state,
            )
            assert patient is not None
            patient_id = patient.id
            # Consent on file since enrolment (8 weeks at least): the review's notes need it.
            signed = now - max(demo_consent.SIGNED, timedelta(days=(today - began).days))
            await demo_consent.tpo(conn, settings, caller, zone, patient_id, at=signed)
        consultant = psychiatrist if plan.program == "collaborative_care" else addiction
        episode = await registry.enrol(
            conn,
            caller,
            trail,
            patient_id,
            program=plan.program,
            care_manager_id=manager.id,
            treating_clinician=TREATING,
            consultant_id=consultant["id"],
            started_on=began,
            now=now,
        )
        episodes.append(episode)
        until = today - timedelta(days=plan.ended if plan.ended is not None else 3)
        await _measures(conn, caller, trail, episode.id, plan, began, until, settings, now)
        await _contacts(
            conn, caller, trail, episode.id, plan, began, today, last_month, this_month, now
        )

    reviewed = [e for e, p in zip(episodes, PLANS, strict=True) if p.reviewed and not p.ended]
    past = await _case_review(
        conn,
        settings,
        spoke_id,
        state,
        case_review,
        psychiatrist,
        episodes[0].patient_id,
        Period(now - timedelta(days=16), now - timedelta(days=12)),
        now - timedelta(days=17),
    )
    recommended = 0
    if past is not None:
        recommended = await _recommend(conn, settings, past, reviewed)
    upcoming = await _case_review(
        conn,
        settings,
        spoke_id,
        state,
        case_review,
        psychiatrist,
        episodes[0].patient_id,
        Period(now + timedelta(days=1), now + timedelta(days=14)),
        now,
    )
    for episode, plan in zip(episodes, PLANS, strict=True):
        if plan.ended is not None:
            await registry.close(
                conn,
                caller,
                trail,
                episode.id,
                ended_on=today - timedelta(days=plan.ended),
                end_reason="remission",
                now=now,
            )
    return {
        "care_manager": email,
        "care_manager_id": manager.id,
        "open_episodes": sum(1 for p in PLANS if p.ended is None),
        "closed_episodes": sum(1 for p in PLANS if p.ended is not None),
        "past_case_review": str(past.id) if past else None,
        "recommendations": recommended,
        "upcoming_case_review": str(upcoming.id) if upcoming else None,
    }


async def _measures(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    episode_id: uuid.UUID,
    plan: Plan,
    began: date,
    until: date,
    settings: Settings,
    now: datetime,
) -> None:
    async def put(kind: str, on: date, **values: Any) -> None:
        await registry.record_measure(
            conn,
            caller,
            trail,
            episode_id,
            kind=kind,
            measured_on=on,
            base_url=settings.base_url,
            now=now,
            **values,
        )

    for i, (on, total) in enumerate(
        zip(_spread(began, until, len(plan.phq9)), plan.phq9, strict=True)
    ):
        last = i == len(plan.phq9) - 1
        await put("phq9", on, items=items_for(total, 9, item9=plan.item9 if last else 0))
    for on, total in zip(_spread(began, until, len(plan.gad7)), plan.gad7, strict=True):
        await put("gad7", on, items=items_for(total, 7))
    for on, adherence in zip(_spread(began, until, len(plan.moud)), plan.moud, strict=True):
        await put("moud", on, adherence=adherence, medication=MEDICATION, daily_dose_mg=DOSE_MG)
    for on, screen in zip(_spread(began, until, len(plan.screens)), plan.screens, strict=True):
        await put("urine_drug_screen", on, screen=screen)


async def _contacts(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    episode_id: uuid.UUID,
    plan: Plan,
    began: date,
    today: date,
    last_month: date,
    this_month: date,
    now: datetime,
) -> None:
    async def put(on: date, minutes: int, kind: str) -> None:
        await registry.record_contact(
            conn,
            caller,
            trail,
            episode_id,
            contact_on=on,
            minutes=minutes,
            kind=kind,
            who="patient",
            counts=True,
            now=now,
        )

    if plan.ended is not None:
        return
    if plan.this_month is None:  # in touch last five weeks ago
        await put(max(began, today - timedelta(days=36)), 15, "phone")
        return
    for day, minutes in zip(LAST_MONTH_DAYS, plan.last_month, strict=False):
        await put(last_month.replace(day=day), minutes, "phone" if day % 2 else "video")
    await put(max(began, this_month, today - timedelta(days=2)), plan.this_month, "phone")


async def _case_review(
    conn: asyncpg.Connection,
    settings: Settings,
    spoke_id: int,
    state: str,
    service: store.Service,
    psychiatrist: dict[str, Any],
    patient_id: uuid.UUID,
    window: Period,
    booked_at: datetime,
) -> Booking | None:
    """A case review in `window`, with the clinic's psychiatric consultant when they are
    licensed in its state (else whoever of the hub is), booked as the clinic would at
    `booked_at`."""
    mine = psychiatrist["id"] if state in psychiatrist["licensed_states"] else None
    slots = await availability.search(
        conn,
        service_id=service.id,
        window=window,
        consultant_id=mine,
        patient_state=state,
        now=booked_at,
    )
    trail = Trail(f"demo:spoke-{spoke_id}")
    for slot in slots:
        new = bookings.NewBooking(
            service.id, slot.consultant_id, patient_id, slot.start, "Systematic case review"
        )
        try:
            async with conn.transaction():
                return await bookings.book(
                    conn,
                    spoke_id,
                    trail,
                    new,
                    now=booked_at,
                    video_url_template=settings.video_url_template,
                )
        except SlotTaken:  # the demo's other bookings took it
            continue
    return None


async def _recommend(
    conn: asyncpg.Connection,
    settings: Settings,
    booking: Booking,
    episodes: list[Episode],
) -> int:
    """The consultant's recommendation for each reviewed patient, a quarter of an hour into
    the review; the session is then recorded as held."""
    hub = Caller(
        "consultant", "demo", KIND_SCOPES["consultant"], consultant_id=booking.consultant_id
    )
    trail = Trail("demo:hub")
    during = booking.start + timedelta(minutes=15)
    for n, episode in enumerate(episodes):
        choice, text = CHOICES[n % len(CHOICES)]
        await review.recommend(
            conn,
            hub,
            trail,
            booking.id,
            episode.id,
            choice=choice,
            text=text,
            base_url=settings.base_url,
            now=during,
        )
    await bookings.record_outcome(conn, hub, trail, booking.id, outcome="completed", now=during)
    return len(episodes)


CHOICES = [
    ("no_change", "Continue the current plan; repeat the PHQ-9 in two weeks."),
    ("adjust_medication", "Increase sertraline to 100 mg daily; check tolerability in a week."),
    ("add_psychotherapy", "Add weekly behavioral activation with the hub's counselor."),
    ("step_up_care", "Step up: a video visit with the psychiatric consultant this month."),
    ("refer", "Refer to the specialty clinic for an intensive outpatient program."),
]
