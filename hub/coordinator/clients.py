"""Coordinator pages for integrations: API clients (secret shown once) and webhook deliveries."""

from __future__ import annotations

from typing import Any, Literal, Self

from aiohttp import web
from pydantic import Field, model_validator

from consults.schemas import DeliveryQuery
from hub import network as hub_network
from hub.coordinator.common import EVENTS, hub_zone
from telehub import forms
from telehub.clients import ApiClient, create_client, get_client, revoke_client
from telehub.errors import NotFound, ValidationFailed
from telehub.fields import Id, OneLine
from telehub.keys import SETTINGS
from telehub.request import int_param, now_of, unit_of_work
from telehub.validation import FieldNamedError, Input, validate
from telehub.web import ROLES_HUB_STAFF, render, see_other, signed_in, url_for

routes = web.RouteTableDef()

CLIENT_KINDS = (
    ("spoke", "A clinic's system (EHR)"),
    ("consultant", "A consultant's system"),
    ("hub_admin", "A hub system (every scope but a clinic's patients and acknowledgements)"),
)


CLIENT_INPUTS = ("name", "kind", "spoke_id", "consultant_id")


class ClientIn(Input):
    """A new API client: a clinic's, a consultant's, or the hub's own."""

    name: OneLine = Field(min_length=1, max_length=200)
    kind: Literal["spoke", "consultant", "hub_admin"]
    spoke_id: Id | None = None
    consultant_id: Id | None = None

    @model_validator(mode="after")
    def _owner(self) -> Self:
        if self.kind == "spoke" and self.spoke_id is None:
            raise FieldNamedError("spoke_id", "choose the clinic whose system this is")
        if self.kind == "consultant" and self.consultant_id is None:
            raise FieldNamedError("consultant_id", "choose the consultant whose system this is")
        if self.kind != "spoke" and self.spoke_id is not None:
            raise FieldNamedError("spoke_id", "leave empty unless the client is a clinic's")
        if self.kind != "consultant" and self.consultant_id is not None:
            raise FieldNamedError(
                "consultant_id", "leave empty unless the client is a consultant's"
            )
        return self


@routes.get("/coordinator/clients", name="coordinator_clients")
async def clients_page(request: web.Request) -> web.Response:
    """The API clients, and a form to register one."""
    signed_in(request, *ROLES_HUB_STAFF)
    return await _clients(request, {}, {})


@routes.post("/coordinator/clients", name="coordinator_add_client")
async def add_client(request: web.Request) -> web.Response:
    """Register a client and show its secret, this once: only its hash is kept."""
    signed_in(request, *ROLES_HUB_STAFF)
    form = await forms.read(request, ClientIn, names=CLIENT_INPUTS)
    parsed, typed, errors = form.parsed, form.values, form.errors
    if parsed is not None:
        try:
            async with unit_of_work(request) as conn:
                await hub_network.check_client_owner(conn, parsed.spoke_id, parsed.consultant_id)
                client, secret = await create_client(conn, **parsed.model_dump())
        except ValidationFailed as failed:
            errors = forms.errors_of(failed, CLIENT_INPUTS)
        else:
            return await _clients(request, {}, {}, created=(client.client_id, client.name, secret))
    return await _clients(request, typed, errors, status=422)


@routes.post("/coordinator/clients/{client_id}/revoke", name="coordinator_revoke_client")
async def revoke(request: web.Request) -> web.Response:
    """Stop a client from getting new tokens, once asked and confirmed (`confirmed=yes`).

    A post without the confirmation changes nothing and asks the question again.
    """
    signed_in(request, *ROLES_HUB_STAFF)
    client_id = request.match_info["client_id"]
    confirmed = (await forms.typed_form(request)).get("confirmed") == "yes"
    async with unit_of_work(request) as conn:
        found = await get_client(conn, client_id)
        if found is None:
            raise NotFound("no such API client")
        if confirmed:
            await revoke_client(conn, client_id)
    if not confirmed:
        return await _clients(request, {}, {}, confirming=found)
    raise await see_other(
        request,
        url_for(request, "coordinator_clients"),
        f"Revoked {found.name}: it gets no new tokens, and those it holds expire within "
        f"{_token_minutes(request)} minutes.",
    )


def _token_minutes(request: web.Request) -> int:
    return max(1, request.app[SETTINGS].access_token_ttl // 60)


async def _clients(
    request: web.Request,
    typed: dict[str, Any],
    errors: dict[str, str],
    *,
    status: int = 200,
    created: tuple[str, str, str | None] | None = None,
    confirming: ApiClient | None = None,
) -> web.Response:
    async with unit_of_work(request) as conn:
        shown = await hub_network.clients(conn)
    clients, spokes, people = shown.clients, shown.spokes, shown.consultants
    return render(
        request,
        "coordinator/clients.html",
        {
            "clients": clients,
            "spoke_options": [(s.id, s.name) for s in spokes],
            "spoke_names": {s.id: s.name for s in spokes},
            "people_options": [(c.id, c.name) for c in people if c.active],
            "people_names": {c.id: c.name for c in people},
            "kinds": CLIENT_KINDS,
            "kind_names": {"spoke": "Clinic", "consultant": "Consultant", "hub_admin": "Hub"},
            "created": created,
            "confirming": confirming,
            "token_minutes": _token_minutes(request),
            "values": typed,
            "errors": errors,
        },
        status=status,
    )


# --- deliveries ------------------------------------------------------------------------------

FILTER_INPUTS = ("state", "spoke_id")


@routes.get("/coordinator/deliveries", name="coordinator_deliveries")
async def deliveries_page(request: web.Request) -> web.Response:
    """Webhook deliveries, newest first, filtered by state or spoke; undelivered ones retried.

    A clinic without a webhook reads its notes in its inbox: its events are never sent, so
    they show as that, with no next attempt and nothing to retry.
    """
    signed_in(request, *ROLES_HUB_STAFF)
    # The filter form sends an empty value for "any"; the API's query model reads the rest.
    query = validate(DeliveryQuery, {k: v for k, v in request.query.items() if v})
    async with unit_of_work(request) as conn:
        shown = await hub_network.deliveries(
            conn, state=query.state, spoke_id=query.spoke_id, limit=query.limit
        )
    return render(
        request,
        "coordinator/deliveries.html",
        {
            "deliveries": shown.found,
            "spokes": shown.spokes,
            "events": EVENTS,
            "state": query.state or "",
            "spoke_id": query.spoke_id or "",
            "now": now_of(request),
            "zone": hub_zone(request).key,
        },
    )


@routes.post("/coordinator/deliveries/{id}/retry", name="coordinator_retry_delivery")
async def retry(request: web.Request) -> web.Response:
    """Put an undelivered event back in line at once, then back to the same filtered list.

    Refused, changing nothing, when the clinic has no webhook to send it to (or its webhook
    is stopped): there is nothing a retry could do.
    """
    signed_in(request, *ROLES_HUB_STAFF)
    delivery_id = int_param(request, "id")
    typed = await forms.typed_form(request)
    shown, mistakes = forms.check(DeliveryQuery, forms.pick(typed, FILTER_INPUTS))
    kept = shown.model_dump(include=set(FILTER_INPUTS)) if shown and not mistakes else {}
    back = url_for(request, "coordinator_deliveries", kept)
    async with unit_of_work(request) as conn:
        found, outcome = await hub_network.retry_delivery(conn, delivery_id)
    event = EVENTS.get(found.delivery.event_type, "event").lower()
    notice = {
        "inbox": f"{found.spoke_name} has no webhook: the {event} is in the clinic's inbox, "
        "and there is nothing to send.",
        "stopped": f"Deliveries to {found.spoke_name} are stopped: save its webhook on the "
        "clinic's page to send again.",
        "sending": f"The {event} for {found.spoke_name} is being sent right now.",
        "again": f"The {event} for {found.spoke_name} will be sent again now.",
        "held": f"The {event} for {found.spoke_name} waits for the patient's consent: it is "
        "sent when the clinic records one that covers it.",
    }[outcome]
    raise await see_other(request, back, notice)
