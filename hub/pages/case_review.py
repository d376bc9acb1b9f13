"""The consultant's registry pages: a case review's agenda with the recommendation form, and the
worklist of the consultant's patients, safety flags first."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from aiohttp import web

from care import review, rules
from care import views as care_views
from care.review_schemas import RecommendationIn
from hub import views
from hub.coordinator.common import hub_zone
from hub.pages.common import zone_label
from telehub import forms
from telehub.errors import Conflict, ValidationFailed
from telehub.keys import SETTINGS
from telehub.labels import options
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.users import User
from telehub.validation import Input, read_query
from telehub.web import ROLES_HUB_STAFF, render, see_other, signed_in, url_for

routes = web.RouteTableDef()

# Who opens these pages: the consultant (their own reviews and patients) and hub staff (any).
ROLES = ("consultant", *ROLES_HUB_STAFF)
INPUTS = ("choice", "text")
LABELS = {"choice": "Recommendation", "text": "In your words"}


def _zone(request: web.Request, user: User, consultant_zone: str) -> ZoneInfo:
    """A consultant reads times in their own zone; hub staff in the hub's."""
    return ZoneInfo(consultant_zone) if user.consultant_id is not None else hub_zone(request)


async def _agenda_page(
    request: web.Request,
    user: User,
    booking_id: uuid.UUID,
    *,
    form_for: uuid.UUID | None = None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The agenda, with the form of patient `form_for` showing what was typed and what to fix."""
    now = now_of(request)
    async with unit_of_work(request) as conn:
        shown = await views.case_review(
            conn, user.caller, trail_of(request, user.caller), booking_id, now=now
        )
    zone = _zone(request, user, shown.consultant.timezone)
    charts = {
        item.row.episode.id: care_views.trend_svg(
            item.trend, title="PHQ-9 and GAD-7 over time", chart_id=f"trend-{item.row.episode.id}"
        )
        for item in shown.agenda.items
    }
    targets = {item.row.episode.id: care_views.target_of(item.trend) for item in shown.agenda.items}
    return render(
        request,
        "hub/case_review.html",
        {
            "review": shown,
            "agenda": shown.agenda,
            "zone": zone.key,
            "zone_label": zone_label(zone.key, now),
            "charts": charts,
            "targets": targets,
            "remission": rules.REMISSION_BELOW,
            "begun": now >= shown.agenda.start,
            "form_for": form_for,
            "values": values or {},
            "errors": errors or {},
            "labels": LABELS,
            "choices": options("recommendation_choice"),
        },
        status=status,
    )


@routes.get("/hub/case-reviews/{booking_id}", name="hub_case_review")
async def case_review(request: web.Request) -> web.Response:
    """A case review's agenda: the clinic's flagged patients in order, each with their trend and
    the recommendation form (or the recommendation already made in this review)."""
    user = signed_in(request, *ROLES)
    return await _agenda_page(request, user, uuid_param(request, "booking_id"))


@routes.post(
    "/hub/case-reviews/{booking_id}/patients/{episode_id}/recommendation",
    name="hub_case_review_recommend",
)
async def recommend(request: web.Request) -> web.Response:
    """Record the recommendation for one patient and sign it as a note to the clinic; a refusal
    shows the agenda again with the error at its field and nothing recorded."""
    user = signed_in(request, *ROLES)
    booking_id = uuid_param(request, "booking_id")
    episode_id = uuid_param(request, "episode_id")
    typed = await forms.read(request, RecommendationIn, names=INPUTS)
    errors, status = typed.errors, 422
    if typed.parsed is not None and not typed.errors:
        try:
            async with unit_of_work(request) as conn:
                await review.recommend(
                    conn,
                    user.caller,
                    trail_of(request, user.caller),
                    booking_id,
                    episode_id,
                    choice=typed.parsed.choice,
                    text=typed.parsed.text,
                    base_url=request.app[SETTINGS].base_url,
                    now=now_of(request),
                )
        except ValidationFailed as failed:
            errors = forms.errors_of(failed, INPUTS)
        except Conflict as refused:
            errors, status = {"choice": refused.detail}, 409
        else:
            target = url_for(request, "hub_case_review", booking_id=str(booking_id))
            notice = "Recommendation recorded and signed as a consult note to the clinic."
            raise await see_other(request, f"{target}#e-{episode_id}", notice)
    return await _agenda_page(
        request,
        user,
        booking_id,
        form_for=episode_id,
        values=typed.values,
        errors=errors,
        status=status,
    )


class RegistryQuery(Input):
    """Which clinic's patients hub staff look at (blank: every clinic)."""

    spoke_id: int | None = None


@routes.get("/hub/registry", name="hub_registry")
async def worklist(request: web.Request) -> web.Response:
    """The consultant's registry patients across clinics, safety flags first and apart; hub
    staff see every consultant's, with a clinic filter."""
    user = signed_in(request, *ROLES)
    query = read_query(request, RegistryQuery)
    now = now_of(request)
    caller = user.caller
    async with unit_of_work(request) as conn:
        if user.consultant_id is not None:
            zone = ZoneInfo((await views.consultant(conn, user.consultant_id)).timezone)
        else:
            zone = hub_zone(request)
        shown = await views.registry(
            conn,
            caller,
            trail_of(request, caller),
            today=now.astimezone(zone).date(),
            consultant_id=user.consultant_id,
            spoke_id=query.spoke_id,
        )
    return render(
        request,
        "hub/registry.html",
        {
            "registry": shown,
            "hub_staff": user.consultant_id is None,
            "spoke_id": query.spoke_id,
            "zone": zone.key,
        },
    )
