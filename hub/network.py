"""What the coordinator's network and integration pages read and do, in one place.

Read models (`consultants_and_services`, `clinics`, `clinic`, `services_offered`, `clients`,
`deliveries`) join what a page shows from the hub's, the spokes', scheduling's and the outbox's
stores, so that no page module reaches into another package's SQL. The commands here
(`set_clinic_mfa`, `check_client_owner`, `retry_delivery`) hold the rules those pages follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import asyncpg

from consults import delivery_store
from consults.delivery_store import DeliveryState, Routed
from hub import store as hub_store
from hub.store import Consultant
from scheduling import store as scheduling_store
from scheduling.store import Service
from spokes import store as spokes_store
from spokes.store import Spoke, Webhook
from telehub import audit, sessions
from telehub.audit import Trail
from telehub.clients import ApiClient, list_clients
from telehub.errors import FieldError, NotFound, ValidationFailed


@dataclass(frozen=True, slots=True)
class People:
    """The hub's consultants (active or not) and the services they may offer."""

    consultants: list[Consultant]
    services: list[Service]


async def consultants_and_services(conn: asyncpg.Connection) -> People:
    """Everyone on the consultants page, and the services to offer them."""
    return People(
        await hub_store.list_consultants(conn, include_inactive=True),
        await scheduling_store.list_services(conn),
    )


async def services_offered(conn: asyncpg.Connection) -> list[Service]:
    """The services the hub offers."""
    return await scheduling_store.list_services(conn)


async def clinics(conn: asyncpg.Connection) -> list[Spoke]:
    """The spoke clinics."""
    return await spokes_store.list_spokes(conn)


@dataclass(frozen=True, slots=True)
class Clinic:
    """One clinic's page: its details, its webhook and its latest deliveries."""

    spoke: Spoke
    webhook: Webhook
    recent: list[Routed]


async def clinic(conn: asyncpg.Connection, spoke_id: int, *, recent: int = 5) -> Clinic:
    """A clinic with its webhook and latest deliveries; NotFound if there is none."""
    spoke = await spokes_store.get_spoke(conn, spoke_id)
    webhook = await spokes_store.get_webhook(conn, spoke_id)
    if spoke is None or webhook is None:
        raise NotFound("no such spoke")
    found = await delivery_store.list_routed(conn, state=None, spoke_id=spoke_id, limit=recent)
    return Clinic(spoke, webhook, found)


async def set_clinic_mfa(
    conn: asyncpg.Connection, trail: Trail, spoke_id: int, required: bool
) -> None:
    """Ask a clinic's staff for a second factor at sign-in, or stop asking; audited.

    Switched on, it signs out the clinic's staff who have no authenticator, so that a session
    begun on a password alone does not outlive the rule (they enrol at their next sign-in).
    """
    if not await spokes_store.set_mfa_required(conn, spoke_id, required):
        raise NotFound("no such spoke")
    if required:
        await sessions.end_sessions_without_authenticator(conn, spoke_id)
    # The audit row has no value column: the record type says which way it was switched.
    switched = "spoke_mfa_on" if required else "spoke_mfa_off"
    await audit.record(conn, trail, "update", switched, [spoke_id], spoke_id)


@dataclass(frozen=True, slots=True)
class Clients:
    """The API clients, and the clinics and consultants they may belong to."""

    clients: list[ApiClient]
    spokes: list[Spoke]
    consultants: list[Consultant]


async def clients(conn: asyncpg.Connection) -> Clients:
    """Everything the API clients page shows."""
    return Clients(
        await list_clients(conn),
        await spokes_store.list_spokes(conn),
        await hub_store.list_consultants(conn, include_inactive=True),
    )


async def check_client_owner(
    conn: asyncpg.Connection, spoke_id: int | None, consultant_id: int | None
) -> None:
    """Refuse a new client whose clinic does not exist or whose consultant is not active."""
    if spoke_id is not None and await spokes_store.get_spoke(conn, spoke_id) is None:
        raise ValidationFailed(
            "spoke_id: no such clinic", errors=[FieldError("spoke_id", "no such clinic")]
        )
    if consultant_id is not None:
        found = await hub_store.get_consultant(conn, consultant_id)
        if found is None or not found.active:
            raise ValidationFailed(
                "consultant_id: no such active consultant",
                errors=[FieldError("consultant_id", "no such active consultant")],
            )


@dataclass(frozen=True, slots=True)
class Deliveries:
    """Webhook deliveries as listed, and the clinics to filter them by."""

    found: list[Routed]
    spokes: list[Spoke]


async def deliveries(
    conn: asyncpg.Connection, *, state: DeliveryState | None, spoke_id: int | None, limit: int
) -> Deliveries:
    """Deliveries, newest first, each with where its clinic's events go now."""
    return Deliveries(
        await delivery_store.list_routed(conn, state=state, spoke_id=spoke_id, limit=limit),
        await spokes_store.list_spokes(conn),
    )


# What asking for a delivery again did: sent again now; nothing, as the clinic has no webhook
# (its notes are in its inbox) or its webhook is stopped; nothing, as it is being sent now.
Retried = Literal["again", "inbox", "stopped", "sending", "held"]


async def retry_delivery(conn: asyncpg.Connection, delivery_id: int) -> tuple[Routed, Retried]:
    """Put an undelivered event back in line at once, when a webhook can take it.

    NotFound when there is no such event or it was delivered already; a note held for the
    patient's consent is never sent by hand (recording the consent sends it).
    """
    found = await delivery_store.get_routed(conn, delivery_id)
    if found is None or found.delivery.state == "delivered":
        raise NotFound("no such undelivered event")
    if found.delivery.state == "held":
        return found, "held"
    if found.route != "webhook":
        return found, found.route
    retried = await delivery_store.retry_now(conn, delivery_id)
    return found, "again" if retried is not None else "sending"
