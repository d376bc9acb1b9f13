"""The week grid: a clinic finds open times in its own time zone."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from aiohttp import web
from pydantic import Field

from scheduling import availability
from scheduling.slots import Slot
from scheduling.weeks import local_week, monday_of
from spokes import booking_views
from spokes.pages.common import STATES, clinic_of, page, utc_text
from telehub import labels
from telehub.errors import ValidationFailed
from telehub.fields import ConsultantRole, Id, UsState
from telehub.forms import check, errors_of, pick
from telehub.request import now_of, unit_of_work
from telehub.validation import Input
from telehub.web import ROLES_SPOKE, signed_in, url_for

routes = web.RouteTableDef()


class FindQuery(Input):
    """The filters of the week grid."""

    service_id: Id | None = None
    consultant_id: Id | None = None
    role: ConsultantRole | None = None
    patient_state: UsState | None = None
    week: date | None = Field(None, ge=date(2000, 1, 1), le=date(2199, 12, 31))


FIND_INPUTS = tuple(FindQuery.model_fields)  # in the order the filters show them


@routes.get("/spoke/find", name="spoke_find")
async def find_page(request: web.Request) -> web.Response:
    """A week of open slots in the clinic's time zone, with previous and next week."""
    user = signed_in(request, *ROLES_SPOKE)
    typed = pick(request.query, FIND_INPUTS)
    query, errors = check(FindQuery, typed, FIND_INPUTS)
    query = query or FindQuery()
    async with unit_of_work(request) as conn:
        spoke = await clinic_of(conn, user.caller)
        services = await booking_views.bookable_services(conn)
        service = next((s for s in services if s.id == query.service_id), None)
        if service is None and services and "service_id" not in errors:
            if query.service_id is not None:
                errors["service_id"] = "choose one of the services listed"
            service = services[0]
        state = query.patient_state or spoke.state
        monday = query.week or monday_of(now_of(request).astimezone(spoke.zone).date())
        monday = monday_of(monday)
        people = await booking_views.consultants_for(conn, service.id if service else None)
        slots: list[Slot] = []
        if service is not None and not errors:
            try:
                slots = await availability.search(
                    conn,
                    service_id=service.id,
                    window=local_week(monday, spoke.zone),
                    consultant_id=query.consultant_id,
                    patient_state=state,
                    now=now_of(request),
                )
            except ValidationFailed as failed:
                errors.update(errors_of(failed, FIND_INPUTS))
    names = {c.id: c for c in people}
    if query.role:
        slots = [
            s
            for s in slots
            if s.consultant_id in names and names[s.consultant_id].role == query.role
        ]
    by_day: dict[date, list[Slot]] = defaultdict(list)
    for slot in slots:
        by_day[slot.start.astimezone(spoke.zone).date()].append(slot)
    filters = {
        "service_id": service.id if service else None,
        "consultant_id": query.consultant_id,
        "role": query.role,
        "patient_state": state,
    }
    days = [monday + timedelta(days=i) for i in range(7)]
    return page(
        request,
        "spokes/find.html",
        {
            "spoke": spoke,
            "values": {
                **{k: str(v) for k, v in filters.items() if v},
                "week": str(monday),
                **{k: v for k, v in typed.items() if k in errors},
            },
            "errors": errors,
            "service_options": [
                (s.id, f"{s.name} ({labels.label(s.kind, 'kind')}, {s.duration_minutes} min)")
                for s in services
            ],
            "consultant_options": [(c.id, f"{c.name}, {c.credentials}") for c in people],
            "role_options": labels.options("consultant_role"),
            "state_options": [(s, s) for s in STATES],
            "service": service,
            "people": names,
            "days": [(d, by_day.get(d, [])) for d in days],
            "slot_count": len(slots),
            "previous": url_for(request, "spoke_find", {**filters, "week": monday - timedelta(7)}),
            "next": url_for(request, "spoke_find", {**filters, "week": monday + timedelta(7)}),
            "this_week": url_for(request, "spoke_find", filters),
            "book_url": lambda s: url_for(
                request,
                "spoke_book",
                {
                    "service_id": s.service_id,
                    "consultant_id": s.consultant_id,
                    "start": utc_text(s.start),
                },
            ),
        },
    )
