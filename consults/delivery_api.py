"""Delivery API: a clinic's webhook, the hub's view of deliveries, and program measures."""

from __future__ import annotations

from aiohttp import web

from consults import delivery_store, measure_store
from consults.delivery import configure_webhook
from consults.delivery_store import Delivery
from consults.measure_store import Measures
from consults.schemas import (
    DeliveriesOut,
    DeliveryOut,
    DeliveryQuery,
    MeasureOut,
    MeasuresOut,
    MeasuresQuery,
    WebhookIn,
    WebhookOut,
)
from hub import store as hub_store
from spokes import store as spokes_store
from telehub.api import ApiRoutes
from telehub.auth import Caller
from telehub.errors import Conflict, Forbidden, NotFound
from telehub.keys import SETTINGS
from telehub.request import int_param, now_of, unit_of_work
from telehub.validation import NoInput

api = ApiRoutes(tag="delivery")
ID = {"id": "integer"}


def _own_spoke(caller: Caller, spoke_id: int) -> None:
    """The hub may manage any clinic's webhook; a clinic only its own (others: 404)."""
    if not caller.is_hub_admin and caller.spoke_id != spoke_id:
        raise NotFound("no such spoke")


def webhook_out(w: spokes_store.Webhook, *, secret: str | None = None) -> WebhookOut:
    """The API view of a webhook, with the secret only when just issued."""
    return WebhookOut(
        spoke_id=w.spoke_id,
        url=w.url,
        full_payload=w.full_payload,
        secret=secret,
        disabled_at=w.disabled_at,
        disabled_reason=w.disabled_reason,
    )


@api.operation(
    "GET",
    "/api/v1/spokes/{id}/webhook",
    name="get_webhook",
    summary="A clinic's webhook (without its secret)",
    scope="webhooks:write",
    input=NoInput,
    output=WebhookOut,
    errors=(404,),
    path_params=ID,
)
async def get_webhook(request: web.Request, caller: Caller, _: NoInput) -> WebhookOut:
    """Where and how notes are pushed to the clinic."""
    spoke_id = int_param(request, "id")
    _own_spoke(caller, spoke_id)
    async with unit_of_work(request) as conn:
        found = await spokes_store.get_webhook(conn, spoke_id)
    if found is None:
        raise NotFound("no such spoke")
    return webhook_out(found)


@api.operation(
    "PUT",
    "/api/v1/spokes/{id}/webhook",
    name="put_webhook",
    summary="Set a clinic's webhook (re-enables it); the secret is shown once",
    scope="webhooks:write",
    input=WebhookIn,
    output=WebhookOut,
    errors=(404, 422),
    path_params=ID,
)
async def put_webhook(request: web.Request, caller: Caller, body: WebhookIn) -> WebhookOut:
    """Set the URL and payload form; a secret is issued on first use or on rotation."""
    spoke_id = int_param(request, "id")
    _own_spoke(caller, spoke_id)
    async with unit_of_work(request) as conn:
        saved, secret = await configure_webhook(
            conn,
            spoke_id,
            url=body.url,
            full_payload=body.full_payload,
            rotate=body.rotate_secret,
            allow_private=request.app[SETTINGS].webhook_allow_private,
        )
    return webhook_out(saved, secret=secret)


def delivery_out(d: Delivery) -> DeliveryOut:
    """The API view of a delivery (its payload stays out: it may hold a note)."""
    return DeliveryOut(
        id=d.id,
        webhook_id=d.webhook_id,
        spoke_id=d.spoke_id,
        event_type=d.event_type,
        state=d.state,
        attempts=d.attempts,
        created_at=d.created_at,
        next_attempt_at=d.next_attempt_at,
        delivered_at=d.delivered_at,
        failed_at=d.failed_at,
        last_status=d.last_status,
        last_error=d.last_error,
        held_at=d.held_at,
        held_reason=d.held_reason,
    )


def _hub(caller: Caller) -> None:
    if not caller.is_hub_admin:
        raise Forbidden("deliveries and measures are the hub's")


@api.operation(
    "GET",
    "/api/v1/deliveries",
    name="list_deliveries",
    summary="Webhook deliveries and their state (hub)",
    scope="deliveries:read",
    input=DeliveryQuery,
    output=DeliveriesOut,
    errors=(422,),
)
async def list_deliveries(
    request: web.Request, caller: Caller, query: DeliveryQuery
) -> DeliveriesOut:
    """Deliveries, newest first; `state=failed` for those needing a hand."""
    _hub(caller)
    async with unit_of_work(request) as conn:
        found = await delivery_store.list_deliveries(
            conn, state=query.state, spoke_id=query.spoke_id, limit=query.limit
        )
    return DeliveriesOut(deliveries=[delivery_out(d) for d in found])


@api.operation(
    "POST",
    "/api/v1/deliveries/{id}/retry",
    name="retry_delivery",
    summary="Try an undelivered event again now (hub)",
    scope="deliveries:write",
    input=NoInput,
    output=DeliveryOut,
    errors=(404, 409),
    path_params=ID,
)
async def retry_delivery(request: web.Request, caller: Caller, _: NoInput) -> DeliveryOut:
    """Put a failed or pending delivery back in line at once."""
    _hub(caller)
    delivery_id = int_param(request, "id")
    async with unit_of_work(request) as conn:
        current = await delivery_store.get_delivery(conn, delivery_id)
        if current is None or current.state == "delivered":
            raise NotFound("no such undelivered event")
        if current.state == "held":
            raise Conflict(
                f"this note waits for the patient's consent ({current.held_reason}); "
                "recording a consent that covers it sends it"
            )
        found = await delivery_store.retry_now(conn, delivery_id)
    if found is None:
        raise Conflict("this event is being delivered right now; look again in a minute")
    return delivery_out(found)


@api.operation(
    "GET",
    "/api/v1/measures",
    name="program_measures",
    summary="Turnaround, loop closure, overdue e-consults, unacknowledged and held notes (hub)",
    scope="measures:read",
    input=MeasuresQuery,
    output=MeasuresOut,
    errors=(422,),
)
async def program_measures(
    request: web.Request, caller: Caller, query: MeasuresQuery
) -> MeasuresOut:
    """Per spoke, per consultant and for the program."""
    _hub(caller)
    async with unit_of_work(request) as conn:
        found = await measure_store.program_measures(conn, query.start, query.end, now_of(request))
        spokes = {s.id: s.name for s in await spokes_store.list_spokes(conn)}
        people = {
            c.id: c.name for c in await hub_store.list_consultants(conn, include_inactive=True)
        }
    names = {"overall": {0: "All spokes"}, "spoke": spokes, "consultant": people}

    def out(m: Measures) -> MeasureOut:
        return MeasureOut(
            name=names[m.level].get(m.key, str(m.key)),
            **{k: getattr(m, k) for k in MeasureOut.model_fields if k != "name"},
        )

    return MeasuresOut(
        overall=out(next(m for m in found if m.level == "overall")),
        by_spoke=[out(m) for m in found if m.level == "spoke"],
        by_consultant=[out(m) for m in found if m.level == "consultant"],
    )
