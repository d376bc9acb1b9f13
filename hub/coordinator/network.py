"""Coordinator pages for the network: consultants, spoke clinics (and their webhook), services."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from pydantic import Field, field_validator

from consults.delivery import configure_webhook
from consults.schemas import WebhookIn
from hub import consultants
from hub import network as hub_network
from hub.api import ConsultantIn
from hub.coordinator.common import EVENTS, zone_choices
from scheduling import services
from scheduling.schemas import ServiceIn
from spokes import clinics
from telehub import forms, labels
from telehub.errors import Conflict, ValidationFailed
from telehub.fields import US_STATES, OneLine, TimeZoneName, UsState
from telehub.keys import SETTINGS
from telehub.request import int_param, trail_of, unit_of_work
from telehub.validation import Input
from telehub.web import ROLES_HUB_STAFF, render, see_other, signed_in, url_for

routes = web.RouteTableDef()

STATES = sorted(US_STATES)
CONSULTANT_LISTS = ("licensed_states", "service_ids")
# Each form's inputs in the order it shows them: errors are placed and summarised so.
CONSULTANT_INPUTS = ("name", "credentials", "role", "timezone", *CONSULTANT_LISTS)
SPOKE_INPUTS = ("name", "slug", "state", "timezone")
WEBHOOK_INPUTS = ("url", "full_payload", "rotate_secret")
SERVICE_INPUTS = (
    "kind",
    "name",
    "duration_minutes",
    "interval_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "min_notice_minutes",
    "horizon_days",
    "turnaround_hours",
    "roles",
)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


# --- consultants -----------------------------------------------------------------------------


@routes.get("/coordinator/consultants", name="coordinator_consultants")
async def consultants_page(request: web.Request) -> web.Response:
    """The hub's consultants and counselors, and a form to add one."""
    signed_in(request, *ROLES_HUB_STAFF)
    return await _consultants(request, {}, {"licensed_states": [], "service_ids": []}, {})


@routes.post("/coordinator/consultants", name="coordinator_add_consultant")
async def add_consultant(request: web.Request) -> web.Response:
    """Add a consultant, or show the form again saying what to fix."""
    signed_in(request, *ROLES_HUB_STAFF)
    checked = {name: await forms.checked(request, name) for name in CONSULTANT_LISTS}
    form = await forms.read(request, ConsultantIn, names=CONSULTANT_INPUTS, extra=checked)
    parsed, typed, errors = form.parsed, form.values, form.errors
    if parsed is not None:
        try:
            async with unit_of_work(request) as conn:
                added = await consultants.create(conn, **parsed.model_dump())
        except ValidationFailed as failed:
            errors = forms.errors_of(failed, CONSULTANT_INPUTS)
        else:
            raise await see_other(
                request, url_for(request, "coordinator_consultants"), f"Added {added.name}."
            )
    return await _consultants(request, typed, checked, errors, status=422)


async def _consultants(
    request: web.Request,
    typed: dict[str, Any],
    checked: dict[str, list[Any]],
    errors: dict[str, str],
    *,
    status: int = 200,
) -> web.Response:
    async with unit_of_work(request) as conn:
        found = await hub_network.consultants_and_services(conn)
    people, offered = found.consultants, found.services
    return render(
        request,
        "coordinator/consultants.html",
        {
            "people": people,
            "services": {s.id: s for s in offered},
            "roles": labels.options("consultant_role"),
            "state_options": [(s, s) for s in STATES],
            "service_options": [
                (s.id, f"{s.name} ({labels.label(s.kind, 'kind').lower()})") for s in offered
            ],
            "zones": zone_choices(),
            "values": typed,
            "checked": {k: [str(v) for v in vs] for k, vs in checked.items()},
            "errors": errors,
        },
        status=status,
    )


# --- spokes ----------------------------------------------------------------------------------


class SpokeIn(Input):
    """A new spoke clinic."""

    slug: str = Field(max_length=63)
    name: OneLine = Field(min_length=1, max_length=200)
    state: UsState
    timezone: TimeZoneName

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(
                "use 2 to 63 lowercase letters, digits and hyphens, starting with a letter or "
                "digit, such as riverside-fm"
            )
        return value


@routes.get("/coordinator/spokes", name="coordinator_spokes")
async def spokes_page(request: web.Request) -> web.Response:
    """The spoke clinics, and a form to add one."""
    signed_in(request, *ROLES_HUB_STAFF)
    return await _spokes(request, {}, {})


@routes.post("/coordinator/spokes", name="coordinator_add_spoke")
async def add_spoke(request: web.Request) -> web.Response:
    """Add a spoke clinic, or show the form again saying what to fix."""
    signed_in(request, *ROLES_HUB_STAFF)
    form = await forms.read(request, SpokeIn, names=SPOKE_INPUTS)
    parsed, typed, errors = form.parsed, form.values, form.errors
    status = 422
    if parsed is not None:
        try:
            async with unit_of_work(request) as conn:
                added = await clinics.create(conn, **parsed.model_dump())
        except Conflict as conflict:
            errors, status = {"slug": conflict.detail}, 409
        else:
            raise await see_other(
                request, url_for(request, "coordinator_spoke", id=added.id), f"Added {added.name}."
            )
    return await _spokes(request, typed, errors, status=status)


async def _spokes(
    request: web.Request, typed: dict[str, Any], errors: dict[str, str], *, status: int = 200
) -> web.Response:
    async with unit_of_work(request) as conn:
        listed = await hub_network.clinics(conn)
    return render(
        request,
        "coordinator/spokes.html",
        {
            "spokes": listed,
            "states_options": [(s, s) for s in STATES],
            "zones": zone_choices(),
            "values": typed,
            "errors": errors,
        },
        status=status,
    )


@routes.get("/coordinator/spokes/{id}", name="coordinator_spoke")
async def spoke_page(request: web.Request) -> web.Response:
    """One spoke: its details, its webhook settings and its latest deliveries."""
    signed_in(request, *ROLES_HUB_STAFF)
    return await _spoke(request, int_param(request, "id"), None, None, {})


@routes.post("/coordinator/spokes/{id}", name="coordinator_spoke_webhook")
async def set_spoke_webhook(request: web.Request) -> web.Response:
    """Set where the clinic takes pushed notes; a new secret is shown once, on this page."""
    signed_in(request, *ROLES_HUB_STAFF)
    spoke_id = int_param(request, "id")
    posted = await request.post()
    flags = {k: k in posted for k in ("full_payload", "rotate_secret")}
    form = await forms.read(request, WebhookIn, names=WEBHOOK_INPUTS, extra=flags)
    parsed, typed, errors = form.parsed, form.values, form.errors
    if parsed is None:
        return await _spoke(request, spoke_id, typed, None, errors, status=422)
    try:
        async with unit_of_work(request) as conn:
            _, secret = await configure_webhook(
                conn,
                spoke_id,
                url=parsed.url,
                full_payload=parsed.full_payload,
                rotate=parsed.rotate_secret,
                allow_private=request.app[SETTINGS].webhook_allow_private,
            )
    except ValidationFailed as refused:  # an address the webhook may not reach
        errors = forms.errors_of(refused, WEBHOOK_INPUTS)
        return await _spoke(request, spoke_id, typed, None, errors, status=422)
    if secret is None:
        raise await see_other(
            request, url_for(request, "coordinator_spoke", id=spoke_id), "Webhook saved."
        )
    return await _spoke(request, spoke_id, None, secret, {})


async def _spoke(
    request: web.Request,
    spoke_id: int,
    typed: dict[str, Any] | None,
    secret: str | None,
    errors: dict[str, str],
    *,
    status: int = 200,
) -> web.Response:
    async with unit_of_work(request) as conn:
        shown = await hub_network.clinic(conn, spoke_id)
    spoke, webhook, recent = shown.spoke, shown.webhook, shown.recent
    if typed is None:
        typed = {"url": webhook.url or ""}
        typed.update({"full_payload": "on"} if webhook.full_payload else {})
    return render(
        request,
        "coordinator/spoke.html",
        {
            "spoke": spoke,
            "webhook": webhook,
            "secret": secret,
            "recent": recent,
            "events": EVENTS,
            "values": typed,
            "errors": errors,
        },
        status=status,
    )


@routes.post("/coordinator/spokes/{id}/mfa", name="coordinator_spoke_mfa")
async def set_spoke_mfa(request: web.Request) -> web.Response:
    """Ask the clinic's staff for a second factor when they sign in, or stop asking
    (`hub.network.set_clinic_mfa`: audited; switched on, it signs out staff without one)."""
    user = signed_in(request, *ROLES_HUB_STAFF)
    spoke_id = int_param(request, "id")
    required = "mfa_required" in await request.post()
    async with unit_of_work(request) as conn:
        await hub_network.set_clinic_mfa(conn, trail_of(request, user.caller), spoke_id, required)
    notice = (
        "Staff of this clinic now sign in with a code from an authenticator app."
        if required
        else "Staff of this clinic sign in with their password alone (unless they set up a code)."
    )
    raise await see_other(request, url_for(request, "coordinator_spoke", id=spoke_id), notice)


# --- services --------------------------------------------------------------------------------


@routes.get("/coordinator/services", name="coordinator_services")
async def services_page(request: web.Request) -> web.Response:
    """The services the hub offers, and a form to add one."""
    signed_in(request, *ROLES_HUB_STAFF)
    return await _services(request, {}, [], {})


@routes.post("/coordinator/services", name="coordinator_add_service")
async def add_service(request: web.Request) -> web.Response:
    """Add a service, or show the form again saying what to fix."""
    signed_in(request, *ROLES_HUB_STAFF)
    roles = (await request.post()).getall("roles", [])
    form = await forms.read(request, ServiceIn, names=SERVICE_INPUTS, extra={"roles": roles})
    parsed, typed, errors = form.parsed, form.values, form.errors
    status = 422
    if parsed is not None:
        try:
            async with unit_of_work(request) as conn:
                added = await services.create(conn, **parsed.model_dump())
        except ValidationFailed as failed:
            errors = forms.errors_of(failed, SERVICE_INPUTS)
        except Conflict as conflict:
            errors, status = {"name": f"{conflict.detail}: choose another name"}, 409
        else:
            raise await see_other(
                request, url_for(request, "coordinator_services"), f"Added {added.name}."
            )
    return await _services(request, typed, roles, errors, status=status)


async def _services(
    request: web.Request,
    typed: dict[str, Any],
    roles: list[Any],
    errors: dict[str, str],
    *,
    status: int = 200,
) -> web.Response:
    async with unit_of_work(request) as conn:
        offered = await hub_network.services_offered(conn)
    return render(
        request,
        "coordinator/services.html",
        {
            "services": offered,
            "kinds": labels.options("kind"),
            "roles": labels.options("consultant_role"),
            "values": typed,
            "checked": {"roles": [str(r) for r in roles]},
            "errors": errors,
        },
        status=status,
    )
