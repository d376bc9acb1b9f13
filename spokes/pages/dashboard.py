"""The clinic's dashboard: today and upcoming sessions, notes to acknowledge, e-consults."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from consults import econsults, notes
from hub import store as hub_store
from scheduling import bookings
from scheduling import store as scheduling_store
from scheduling.bookings import BookingFilter
from spokes import store
from telehub.request import now_of, trail_of, unit_of_work
from telehub.web import ROLES_SPOKE, render, signed_in

routes = web.RouteTableDef()


@routes.get("/spoke", name="spoke_dashboard")
async def dashboard(request: web.Request) -> web.Response:
    """Today and upcoming sessions, notes to acknowledge, e-consults past due or waiting on us."""
    user = signed_in(request, *ROLES_SPOKE)
    caller, trail, now = user.caller, trail_of(request, user.caller), now_of(request)
    async with unit_of_work(request) as conn:
        spoke = await store.get_spoke(conn, caller.spoke_id or 0)
        assert spoke is not None
        upcoming = await bookings.find(
            conn,
            caller,
            trail,
            BookingFilter(start=now, end=now + timedelta(days=14), status="booked"),
        )
        waiting_notes = await notes.inbox(conn, caller, trail, acknowledged=False, limit=50)
        overdue = await econsults.find(conn, caller, trail, status=None, overdue_at=now, limit=50)
        asked = await econsults.find(
            conn, caller, trail, status="awaiting_clinic", overdue_at=None, limit=50
        )
        patient_ids = list(
            {b.patient_id for b in upcoming}
            | {n.patient_id for n in waiting_notes}
            | {e.patient_id for e in overdue + asked}
        )
        patients = await store.patients_by_id(conn, spoke.id, patient_ids)
        people = {c.id: c for c in await hub_store.list_consultants(conn, include_inactive=True)}
        services = {s.id: s for s in await scheduling_store.list_services(conn)}
    today = now.astimezone(spoke.zone).date()
    return render(
        request,
        "spokes/dashboard.html",
        {
            "spoke": spoke,
            "today": [b for b in upcoming if b.start.astimezone(spoke.zone).date() == today],
            "later": [b for b in upcoming if b.start.astimezone(spoke.zone).date() != today],
            "waiting_notes": waiting_notes,
            "overdue": overdue,
            "asked": asked,
            "patients": patients,
            "people": people,
            "services": services,
        },
    )
