"""Systematic case review's JSON API: a case review's agenda and the recommendations made in it."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from care import review
from care.review import Agenda, AgendaItem
from care.review_schemas import (
    AgendaItemOut,
    AgendaOut,
    MoudOut,
    RecommendationIn,
    RecommendationOut,
    ScoreOut,
    TrendOut,
)
from care.review_store import Recommendation
from care.rules import Score
from telehub.api import ApiRoutes, at
from telehub.auth import Caller
from telehub.idempotency import idempotent
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import NoInput

api = ApiRoutes(tag="registry")
BOOKING = {"id": "uuid"}
BOOKING_EPISODE = {"id": "uuid", "episode_id": "uuid"}


def recommendation_out(r: Recommendation) -> RecommendationOut:
    """The API view of a recommendation."""
    return RecommendationOut.model_validate(
        {
            "id": r.id,
            "booking_id": r.booking_id,
            "episode_id": r.episode_id,
            "spoke_id": r.spoke_id,
            "consultant_id": r.consultant_id,
            "choice": r.choice,
            "text": r.text,
            "recorded_at": r.recorded_at,
            "note_id": r.note_id,
        }
    )


def _score(s: Score | None) -> ScoreOut | None:
    return ScoreOut(measured_on=s.measured_on, score=s.score) if s else None


def _item_out(item: AgendaItem, done: set[object]) -> AgendaItemOut:
    row = item.row
    e = row.episode
    return AgendaItemOut(
        episode_id=e.id,
        patient_id=e.patient_id,
        program=e.program,
        started_on=e.started_on,
        weeks=row.weeks,
        flags=list(row.flags),
        last_contact_on=row.last_contact_on,
        first_phq9=_score(row.first_phq9),
        last_phq9=_score(row.last_phq9),
        phq9_change=row.phq9_change,
        first_gad7=_score(row.first_gad7),
        last_gad7=_score(row.last_gad7),
        gad7_change=row.gad7_change,
        last_review_at=row.last_review_at,
        moud=MoudOut(
            medication=row.moud_medication,
            adherence=row.moud_adherence,
            daily_dose_mg=row.moud_dose_mg,
        )
        if row.moud_medication
        else None,
        trend=TrendOut(
            phq9=[ScoreOut(measured_on=s.measured_on, score=s.score) for s in item.trend.phq9],
            gad7=[ScoreOut(measured_on=s.measured_on, score=s.score) for s in item.trend.gad7],
        ),
        last_recommendation=recommendation_out(item.last_recommendation)
        if item.last_recommendation
        else None,
        recommended_in_this_review=e.id in done,
    )


def agenda_out(a: Agenda) -> AgendaOut:
    """The API view of a case review's agenda."""
    done: set[object] = {r.episode_id for r in a.recorded}
    return AgendaOut(
        booking_id=a.id,
        spoke_id=a.spoke_id,
        spoke_name=a.spoke_name,
        consultant_id=a.consultant_id,
        start=a.start,
        end=a.end,
        status=a.status,
        items=[_item_out(i, done) for i in a.items],
        recorded=[recommendation_out(r) for r in a.recorded],
    )


@api.operation(
    "GET",
    "/api/v1/bookings/{id}/agenda",
    name="case_review_agenda",
    summary="A case review's agenda: the clinic's flagged patients, safety first",
    scope="registry:read",
    input=NoInput,
    output=AgendaOut,
    errors=(404,),
    path_params=BOOKING,
)
async def case_review_agenda(request: web.Request, caller: Caller, _: NoInput) -> AgendaOut:
    """The booking's clinic, its consultant and the hub read it; a booking that is not a case
    review, or another clinic's or consultant's, is 404."""
    async with unit_of_work(request) as conn:
        found = await review.agenda(
            conn,
            caller,
            trail_of(request, caller),
            uuid_param(request, "id"),
            now=now_of(request),
        )
    return agenda_out(found)


@api.operation(
    "POST",
    "/api/v1/bookings/{id}/agenda/{episode_id}/recommendation",
    name="record_recommendation",
    summary="Record the consultant's recommendation for one patient: signed to the clinic",
    scope="notes:write",
    input=RecommendationIn,
    output=RecommendationOut,
    status=201,
    errors=(403, 404, 409, 422),
    headers={"Idempotency-Key": "optional"},
    location=at("/api/v1/notes/{note_id}"),
    path_params=BOOKING_EPISODE,
)
async def record_recommendation(
    request: web.Request, caller: Caller, body: RecommendationIn
) -> web.Response:
    """The review's consultant (or the hub) records it during or after the review; it becomes
    a signed consult note to the clinic (Location), and the episode's last review. A second
    one for the patient in the same review is 409: amend its note instead."""
    booking_id = uuid_param(request, "id")
    episode_id = uuid_param(request, "episode_id")
    base_url = request.app[SETTINGS].base_url

    async def work(conn: asyncpg.Connection) -> RecommendationOut:
        made = await review.recommend(
            conn,
            caller,
            trail_of(request, caller),
            booking_id,
            episode_id,
            choice=body.choice,
            text=body.text,
            base_url=base_url,
            now=now_of(request),
        )
        return recommendation_out(made)

    return await idempotent(request, caller, body, work, status=201, key_required=False)
