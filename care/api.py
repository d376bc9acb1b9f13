"""The registry's JSON API: episodes of care, their measures and contacts, the caseload.

Writes are the clinic's (scope registry:write); reads are for every kind (registry:read), a
clinic reading only its own clinic's records: another clinic's patient or episode answers 404
on every endpoint. The caseload's `spoke_id` filter is the hub's: a clinic naming another
clinic gets an empty list, never that clinic's rows, and no error that would confirm the
other clinic exists.

Every create takes an optional `Idempotency-Key`, as the clinic's other creates that hold no
contended resource do (patients, e-consults): a retry with the same key replays the first
answer. Without one, enrolling twice is a 409 (one open episode per program), and a measure
or contact sent twice is recorded twice.
"""

from __future__ import annotations

import asyncpg
from aiohttp import web

from care import registry, rules
from care.registry import CaseloadRow, History
from care.schemas import (
    CaseloadRowOut,
    CloseIn,
    ContactIn,
    ContactOut,
    EpisodeIn,
    EpisodeOut,
    EpisodesOut,
    HistoryOut,
    MeasureIn,
    MeasureOut,
    MoudOut,
    RegistryOut,
    RegistryQuery,
    ScoreTrendOut,
)
from care.store import Contact, Episode, Measure
from telehub.api import ApiRoutes, at
from telehub.auth import Caller
from telehub.idempotency import idempotent
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import NoInput

api = ApiRoutes(tag="registry")


def episode_out(e: Episode) -> EpisodeOut:
    """The API view of an episode."""
    return EpisodeOut.model_validate(
        {
            "id": e.id,
            "spoke_id": e.spoke_id,
            "patient_id": e.patient_id,
            "program": e.program,
            "care_manager_id": e.care_manager_id,
            "treating_clinician": e.treating_clinician,
            "consultant_id": e.consultant_id,
            "started_on": e.started_on,
            "ended_on": e.ended_on,
            "end_reason": e.end_reason,
            "created_at": e.created_at,
        }
    )


def _severity(kind: str, score: int | None) -> str | None:
    if score is None:
        return None
    return rules.phq9_severity(score) if kind == "phq9" else rules.gad7_severity(score)


def measure_out(m: Measure) -> MeasureOut:
    """The API view of a measure, with a questionnaire's computed score and severity."""
    return MeasureOut.model_validate(
        {
            "id": m.id,
            "episode_id": m.episode_id,
            "kind": m.kind,
            "measured_on": m.measured_on,
            "items": m.items,
            "score": m.score,
            "severity": _severity(m.kind, m.score) if m.kind in {"phq9", "gad7"} else None,
            "adherence": m.adherence,
            "medication": m.medication,
            "daily_dose_mg": m.daily_dose_mg,
            "results": m.screen,
            "recorded_at": m.recorded_at,
        }
    )


def contact_out(c: Contact) -> ContactOut:
    """The API view of a contact."""
    return ContactOut.model_validate(
        {
            "id": c.id,
            "episode_id": c.episode_id,
            "contact_on": c.contact_on,
            "minutes": c.minutes,
            "kind": c.kind,
            "who": c.who,
            "counts": c.counts,
            "recorded_at": c.recorded_at,
        }
    )


def _trend(
    kind: str, first: rules.Score | None, last: rules.Score | None, change: float | None
) -> ScoreTrendOut:
    return ScoreTrendOut.model_validate(
        {
            "first": first.score if first else None,
            "first_on": first.measured_on if first else None,
            "last": last.score if last else None,
            "last_on": last.measured_on if last else None,
            "change_percent": change,
            "last_severity": _severity(kind, last.score if last else None),
        }
    )


def caseload_row_out(r: CaseloadRow) -> CaseloadRowOut:
    """The API view of a caseload row: identifiers and facts, never a name."""
    e = r.episode
    moud = (
        MoudOut.model_validate(
            {
                "medication": r.moud_medication,
                "adherence": r.moud_adherence,
                "daily_dose_mg": r.moud_dose_mg,
            }
        )
        if r.moud_adherence is not None
        else None
    )
    return CaseloadRowOut.model_validate(
        {
            "episode_id": e.id,
            "spoke_id": e.spoke_id,
            "patient_id": e.patient_id,
            "program": e.program,
            "care_manager_id": e.care_manager_id,
            "consultant_id": e.consultant_id,
            "started_on": e.started_on,
            "weeks_in_treatment": r.weeks,
            "last_contact_on": r.last_contact_on,
            "phq9": _trend("phq9", r.first_phq9, r.last_phq9, r.phq9_change),
            "gad7": _trend("gad7", r.first_gad7, r.last_gad7, r.gad7_change),
            "last_review_at": r.last_review_at,
            "moud": moud,
            "flags": list(r.flags),
        }
    )


def history_out(h: History) -> HistoryOut:
    """The API view of an episode's history."""
    return HistoryOut(
        episode=episode_out(h.episode),
        measures=[measure_out(m) for m in h.measures],
        contacts=[contact_out(c) for c in h.contacts],
    )


@api.operation(
    "POST",
    "/api/v1/patients/{id}/episodes",
    name="enrol_patient",
    summary="Enrol one of the clinic's patients in a program (an episode of care)",
    scope="registry:write",
    input=EpisodeIn,
    output=EpisodeOut,
    status=201,
    errors=(400, 404, 409, 422),
    path_params={"id": "uuid"},
    headers={"Idempotency-Key": "optional"},
    location=at("/api/v1/episodes/{id}"),
)
async def enrol_patient(request: web.Request, caller: Caller, body: EpisodeIn) -> web.Response:
    """201 the episode; 404 another clinic's patient; 409 an open episode of the program
    already; 422 naming the field (care manager, consultant, start date)."""
    patient_id = uuid_param(request, "id")

    async def work(conn: asyncpg.Connection) -> EpisodeOut:
        episode = await registry.enrol(
            conn,
            caller,
            trail_of(request, caller),
            patient_id,
            program=body.program,
            care_manager_id=body.care_manager_id,
            treating_clinician=body.treating_clinician,
            consultant_id=body.consultant_id,
            started_on=body.started_on,
            now=now_of(request),
        )
        return episode_out(episode)

    return await idempotent(request, caller, body, work, status=201, key_required=False)


@api.operation(
    "GET",
    "/api/v1/patients/{id}/episodes",
    name="list_patient_episodes",
    summary="A patient's episodes of care, open and closed",
    scope="registry:read",
    input=NoInput,
    output=EpisodesOut,
    errors=(404,),
    path_params={"id": "uuid"},
)
async def list_patient_episodes(request: web.Request, caller: Caller, _: NoInput) -> EpisodesOut:
    """Newest start first; another clinic's patient answers 404."""
    async with unit_of_work(request) as conn:
        found = await registry.episodes_of_patient(
            conn, caller, trail_of(request, caller), uuid_param(request, "id")
        )
    return EpisodesOut(episodes=[episode_out(e) for e in found])


@api.operation(
    "GET",
    "/api/v1/episodes/{id}",
    name="get_episode",
    summary="One episode of care, with its measures and contacts (newest first)",
    scope="registry:read",
    input=NoInput,
    output=HistoryOut,
    errors=(404,),
    path_params={"id": "uuid"},
)
async def get_episode(request: web.Request, caller: Caller, _: NoInput) -> HistoryOut:
    """Another clinic's episode answers 404; the hub reads any."""
    async with unit_of_work(request) as conn:
        found = await registry.history(
            conn, caller, trail_of(request, caller), uuid_param(request, "id")
        )
    return history_out(found)


@api.operation(
    "POST",
    "/api/v1/episodes/{id}/close",
    name="close_episode",
    summary="End an open episode of care",
    scope="registry:write",
    input=CloseIn,
    output=EpisodeOut,
    errors=(400, 404, 409, 422),
    path_params={"id": "uuid"},
    headers={"Idempotency-Key": "optional"},
)
async def close_episode(request: web.Request, caller: Caller, body: CloseIn) -> web.Response:
    """409 when closed already; 422 an end before the start or after the clinic's today."""
    episode_id = uuid_param(request, "id")

    async def work(conn: asyncpg.Connection) -> EpisodeOut:
        closed = await registry.close(
            conn,
            caller,
            trail_of(request, caller),
            episode_id,
            ended_on=body.ended_on,
            end_reason=body.end_reason,
            now=now_of(request),
        )
        return episode_out(closed)

    return await idempotent(request, caller, body, work, status=200, key_required=False)


@api.operation(
    "POST",
    "/api/v1/episodes/{id}/measures",
    name="record_measure",
    summary="Record a measure of an open episode (PHQ-9, GAD-7, MOUD adherence, drug screen)",
    scope="registry:write",
    input=MeasureIn,
    output=MeasureOut,
    status=201,
    errors=(400, 404, 409, 422),
    path_params={"id": "uuid"},
    headers={"Idempotency-Key": "optional"},
    location=at("/api/v1/episodes/{episode_id}"),
)
async def record_measure(request: web.Request, caller: Caller, body: MeasureIn) -> web.Response:
    """201 with the computed score and severity; a latest PHQ-9 with item 9 above 0 queues
    the `registry.safety_flag` webhook to the clinic. 409 on a closed episode."""
    episode_id = uuid_param(request, "id")
    base_url = request.app[SETTINGS].base_url

    async def work(conn: asyncpg.Connection) -> MeasureOut:
        measure = await registry.record_measure(
            conn,
            caller,
            trail_of(request, caller),
            episode_id,
            kind=body.kind,
            measured_on=body.measured_on,
            items=body.items,
            adherence=body.adherence,
            medication=body.medication,
            daily_dose_mg=body.daily_dose_mg,
            screen={str(k): str(v) for k, v in body.results.items()} if body.results else None,
            base_url=base_url,
            now=now_of(request),
        )
        return measure_out(measure)

    return await idempotent(request, caller, body, work, status=201, key_required=False)


@api.operation(
    "POST",
    "/api/v1/episodes/{id}/contacts",
    name="record_contact",
    summary="Record a care manager's contact with the patient of an open episode",
    scope="registry:write",
    input=ContactIn,
    output=ContactOut,
    status=201,
    errors=(400, 404, 409, 422),
    path_params={"id": "uuid"},
    headers={"Idempotency-Key": "optional"},
    location=at("/api/v1/episodes/{episode_id}"),
)
async def record_contact(request: web.Request, caller: Caller, body: ContactIn) -> web.Response:
    """201 the contact; 409 on a closed episode; 422 a date in the future or before the start."""
    episode_id = uuid_param(request, "id")

    async def work(conn: asyncpg.Connection) -> ContactOut:
        contact = await registry.record_contact(
            conn,
            caller,
            trail_of(request, caller),
            episode_id,
            contact_on=body.contact_on,
            minutes=body.minutes,
            kind=body.kind,
            who=body.who,
            counts=body.counts,
            now=now_of(request),
        )
        return contact_out(contact)

    return await idempotent(request, caller, body, work, status=201, key_required=False)


@api.operation(
    "GET",
    "/api/v1/registry",
    name="registry",
    summary="The caseload: open episodes with their scores and flags, most urgent first",
    scope="registry:read",
    input=RegistryQuery,
    output=RegistryOut,
    errors=(422,),
)
async def caseload(request: web.Request, caller: Caller, query: RegistryQuery) -> RegistryOut:
    """A clinic sees its own episodes (a spoke_id of another clinic: an empty list); the hub
    sees every clinic's. Rows carry identifiers, never names."""
    now = now_of(request)
    async with unit_of_work(request) as conn:
        rows = await registry.caseload(
            conn,
            caller,
            trail_of(request, caller),
            today=now.date(),
            now=now,  # each episode reckoned on its own clinic's date
            spoke_id=query.spoke_id,
            consultant_id=query.consultant_id,
            program=query.program,
            flag=query.flag,
        )
    return RegistryOut(rows=[caseload_row_out(r) for r in rows])
