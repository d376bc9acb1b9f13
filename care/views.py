"""What the care manager's pages show: one read model per page, each gathered here once.

The caseload, one episode, the enrolment form's choices and the month's billing report. The
registry (`care.registry`), the case review's recommendations (`care.review_store`) and the
ledger (`care.ledger`) do the reading, tenancy and audit; this module joins what a page shows
(patients' names, the team's names, the trend charts) and nothing else. `trend_svg` and
`QUESTIONNAIRES` are shared with the consultant's agenda.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg
from markupsafe import Markup

from care import ledger, registry, review_store, rules
from care.ledger import Report
from care.registry import CaseloadRow, Trend
from care.review_store import Recommendation
from care.store import Contact, Episode, Measure
from hub import charts
from hub import store as hub_store
from hub.store import Consultant
from spokes import patients
from spokes import store as spokes_store
from spokes.overview import clinic_of
from spokes.store import Patient, Spoke
from telehub import audit, users
from telehub.audit import Trail
from telehub.auth import Caller

# The questionnaires as the patient answers them (Kroenke 2001; Spitzer 2006): the stem, the
# items in order, and the four answers with their points.
ANSWERS: tuple[tuple[int, str], ...] = (
    (0, "Not at all"),
    (1, "Several days"),
    (2, "More than half the days"),
    (3, "Nearly every day"),
)
STEM = "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
PHQ9_ITEMS: tuple[str, ...] = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself, or that you are a failure or have let yourself or your "
    "family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed, or the opposite: "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead, or of hurting yourself in some way",
)
GAD7_ITEMS: tuple[str, ...] = (
    "Feeling nervous, anxious, or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid, as if something awful might happen",
)
assert len(PHQ9_ITEMS) == rules.PHQ9_ITEMS and len(GAD7_ITEMS) == rules.GAD7_ITEMS
assert [points for points, _ in ANSWERS] == list(range(rules.ITEM_MAX + 1))


@dataclass(frozen=True, slots=True)
class Questionnaire:
    """A questionnaire's form: its kind, items, bands of severity and the item that flags."""

    kind: str
    title: str
    items: tuple[str, ...]
    bands: tuple[tuple[int, str], ...]  # (lowest score, severity), highest first
    safety_item: int | None  # 1-based; an answer above 0 raises the safety flag

    @property
    def max_score(self) -> int:
        """The highest total: every item answered "Nearly every day"."""
        return len(self.items) * rules.ITEM_MAX


QUESTIONNAIRES: dict[str, Questionnaire] = {
    "phq9": Questionnaire("phq9", "PHQ-9", PHQ9_ITEMS, rules.PHQ9_SEVERITY, rules.SAFETY_ITEM),
    "gad7": Questionnaire("gad7", "GAD-7", GAD7_ITEMS, rules.GAD7_SEVERITY, None),
}


def severity(kind: str, score: int | None) -> str | None:
    """The band of a questionnaire's total (None for other measures)."""
    if score is None:
        return None
    if kind == "phq9":
        return rules.phq9_severity(score)
    if kind == "gad7":
        return rules.gad7_severity(score)
    return None


def target_of(trend: Trend) -> float | None:
    """The response target: half the first PHQ-9 (None before the first)."""
    return trend.phq9[0].score * (1 - rules.RESPONSE_FALL) if trend.phq9 else None


def trend_svg(trend: Trend, *, title: str, chart_id: str, small: bool = False) -> Markup:
    """An episode's PHQ-9 and GAD-7 as a chart with the target and remission lines."""
    said = []
    for name, scores in (("PHQ-9", trend.phq9), ("GAD-7", trend.gad7)):
        if scores:
            said.append(
                f"{name} {scores[0].score} on {scores[0].measured_on.isoformat()}"
                + (
                    f", {scores[-1].score} on {scores[-1].measured_on.isoformat()}"
                    if len(scores) > 1
                    else ""
                )
            )
    target = target_of(trend)
    if target is not None:
        said.append(f"target {target:g} (half the first PHQ-9)")
    said.append(f"remission below {rules.REMISSION_BELOW}")
    return charts.trend_chart(
        title,
        trend.phq9,
        trend.gad7,
        description="; ".join(said) + ".",
        chart_id=chart_id,
        target=target,
        remission_below=rules.REMISSION_BELOW,
        small=small,
    )


# --- the caseload ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseloadEntry:
    """One row of the caseload: the episode's numbers and flags, who, and the trend."""

    row: CaseloadRow
    patient: Patient
    trend: Trend
    chart: Markup


@dataclass(frozen=True, slots=True)
class Caseload:
    """The clinic's open episodes, most urgent first, under the page's filter."""

    spoke: Spoke
    today: date
    entries: list[CaseloadEntry]
    program: str | None
    flag: str | None


async def caseload(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    *,
    now: datetime,
    program: str | None = None,
    flag: str | None = None,
) -> Caseload:
    """The caller's clinic's caseload (each episode and patient read audited)."""
    spoke = await clinic_of(conn, caller)
    today = now.astimezone(spoke.zone).date()
    rows = await registry.caseload(conn, caller, trail, today=today, program=program, flag=flag)
    named = await _patients(conn, trail, spoke, [r.episode.patient_id for r in rows])
    trends = await registry.trends(conn, [r.episode.id for r in rows])
    entries = []
    for row in rows:
        trend = trends[row.episode.id]
        entries.append(
            CaseloadEntry(
                row,
                named[row.episode.patient_id],
                trend,
                trend_svg(
                    trend,
                    title="PHQ-9 and GAD-7 over time",
                    chart_id=f"trend-{row.episode.id}",
                    small=True,
                ),
            )
        )
    return Caseload(spoke, today, entries, program, flag)


async def _patients(
    conn: asyncpg.Connection, trail: Trail, spoke: Spoke, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Patient]:
    """The clinic's patients by id, each read audited."""
    found = await spokes_store.patients_by_id(conn, spoke.id, list(set(ids)))
    await audit.record(conn, trail, "read", "patient", list(found), spoke.id)
    return found


# --- one episode ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EpisodeView:
    """One episode as its page shows it: who, the team, flags, trend, measures, contacts."""

    spoke: Spoke
    today: date
    patient: Patient
    episode: Episode
    row: CaseloadRow | None  # the caseload's numbers and flags (None once closed)
    trend: Trend
    chart: Markup
    measures: list[Measure]  # newest first
    contacts: list[Contact]  # newest first
    last_recommendation: Recommendation | None
    care_manager: str
    consultant: Consultant | None

    @property
    def minutes(self) -> int:
        """The minutes of every contact that counts toward collaborative care time."""
        return sum(c.minutes for c in self.contacts if c.counts)


async def episode(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, episode_id: uuid.UUID, *, now: datetime
) -> EpisodeView:
    """One of the clinic's episodes (another clinic's is NotFound), every read audited."""
    spoke = await clinic_of(conn, caller)
    today = now.astimezone(spoke.zone).date()
    found = await registry.history(conn, caller, trail, episode_id)
    e = found.episode
    rows = (
        await registry.caseload(conn, caller, trail, today=today, episode_ids=[e.id])
        if e.is_open
        else []
    )
    patient = await patients.get(conn, caller, trail, e.patient_id)
    trend = (await registry.trends(conn, [e.id]))[e.id]
    latest = (await review_store.latest_for(conn, [e.id])).get(e.id)
    if latest is not None:
        await audit.record(conn, trail, "read", "recommendation", [latest.id], spoke.id)
    manager = await users.get_user(conn, e.care_manager_id)
    return EpisodeView(
        spoke=spoke,
        today=today,
        patient=patient,
        episode=e,
        row=rows[0] if rows else None,
        trend=trend,
        chart=trend_svg(
            trend,
            title=f"PHQ-9 and GAD-7 of {patient.given_name} {patient.family_name} over time",
            chart_id="episode-trend",
        ),
        measures=found.measures,
        contacts=found.contacts,
        last_recommendation=latest,
        care_manager=manager.name if manager else "—",
        consultant=await hub_store.get_consultant(conn, e.consultant_id),
    )


@dataclass(frozen=True, slots=True)
class ContactForm:
    """What the contact page shows: the episode, its patient, and the clinic's today."""

    episode: Episode
    patient: Patient
    today: date


async def contact_form(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, episode_id: uuid.UUID, *, now: datetime
) -> ContactForm:
    """The episode a contact is logged for (another clinic's is NotFound), its reads audited."""
    spoke = await clinic_of(conn, caller)
    found = await registry.get_episode(conn, caller, trail, episode_id)
    patient = await patients.get(conn, caller, trail, found.patient_id)
    return ContactForm(found, patient, now.astimezone(spoke.zone).date())


# --- enrolment -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnrolChoices:
    """What the enrolment form offers: the patient, the clinic's care managers, the hub's
    consultants by the programs they may take, and the patient's open programs."""

    spoke: Spoke
    today: date
    patient: Patient
    care_managers: list[tuple[int, str]]
    consultants: list[Consultant]
    roles_by_program: dict[str, frozenset[str]]
    open_programs: frozenset[str]


async def enrol_choices(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, patient_id: uuid.UUID, *, now: datetime
) -> EnrolChoices:
    """The enrolment form's choices for one of the clinic's patients (NotFound otherwise)."""
    spoke = await clinic_of(conn, caller)
    patient = await patients.get(conn, caller, trail, patient_id)
    episodes = await registry.episodes_of_patient(conn, caller, trail, patient.id)
    roles = sorted({r for rs in registry.CONSULTANT_ROLES.values() for r in rs})
    consultants = [c for role in roles for c in await hub_store.list_consultants(conn, role=role)]
    return EnrolChoices(
        spoke=spoke,
        today=now.astimezone(spoke.zone).date(),
        patient=patient,
        care_managers=[(u.id, u.name) for u in await users.care_managers_of(conn, spoke.id)],
        consultants=sorted(consultants, key=lambda c: (c.name, c.id)),
        roles_by_program=dict(registry.CONSULTANT_ROLES),
        open_programs=frozenset(e.program for e in episodes if e.is_open),
    )


# --- billing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Billing:
    """The month's billing report with the patients named, and the totals per code."""

    spoke: Spoke
    report: Report
    totals: list[tuple[str, int, int]]  # code, patients, units
    previous: date
    next: date


async def billing(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, *, month: date
) -> Billing:
    """The clinic's billing report for `month` (its first day), names included."""
    spoke = await clinic_of(conn, caller)
    report = await ledger.billing_report(
        conn, caller, trail, month=month, spoke_id=spoke.id, names=True
    )
    totals: dict[str, tuple[int, int]] = {}
    for r in report.rows:
        patients_, units = totals.get(r.code, (0, 0))
        totals[r.code] = (patients_ + 1, units + r.units)
    previous = (
        date(month.year - 1, 12, 1) if month.month == 1 else month.replace(month=month.month - 1)
    )
    return Billing(
        spoke=spoke,
        report=report,
        totals=[(code, n, units) for code, (n, units) in sorted(totals.items())],
        previous=previous,
        next=ledger.next_month(month),
    )
