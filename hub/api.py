"""Hub API: the consultants and counselors clinics can book."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from hub import consultants, store
from telehub.api import ApiRoutes, at
from telehub.auth import Caller
from telehub.errors import NotFound
from telehub.fields import ConsultantRole, Id, OneLine, TimeZoneName, UsState
from telehub.request import int_param, unit_of_work
from telehub.validation import Input, NoInput, Output

api = ApiRoutes(tag="hub")


class ConsultantIn(Input):
    """A new consultant or counselor."""

    name: OneLine = Field(min_length=1, max_length=200)
    credentials: OneLine = Field("", max_length=100, examples=["MD, FASAM"])
    role: ConsultantRole
    timezone: TimeZoneName
    licensed_states: list[UsState] = Field(default_factory=list, max_length=60)
    service_ids: list[Id] = Field(default_factory=list, max_length=50)


class ConsultantOut(Output):
    """A consultant or counselor of the hub."""

    id: int
    name: str
    credentials: str
    role: str
    timezone: str
    licensed_states: list[str]
    service_ids: list[int]
    active: bool


class ConsultantsOut(Output):
    """Consultants, by name."""

    consultants: list[ConsultantOut]


class ConsultantQuery(Input):
    """Filters for listing consultants."""

    service_id: Id | None = None
    role: ConsultantRole | None = None
    licensed_in: UsState | None = None


def consultant_out(c: store.Consultant) -> ConsultantOut:
    """The API view of a consultant."""
    return ConsultantOut(
        id=c.id,
        name=c.name,
        credentials=c.credentials,
        role=c.role,
        timezone=c.timezone,
        licensed_states=list(c.licensed_states),
        service_ids=list(c.service_ids),
        active=c.active,
    )


@api.operation(
    "GET",
    "/api/v1/consultants",
    name="list_consultants",
    summary="List active consultants",
    scope="consultants:read",
    input=ConsultantQuery,
    output=ConsultantsOut,
    errors=(422,),
)
async def list_consultants(
    request: web.Request, caller: Caller, query: ConsultantQuery
) -> ConsultantsOut:
    """Active consultants, filtered by service, role or licensed state."""
    async with unit_of_work(request) as conn:
        found = await store.list_consultants(
            conn, service_id=query.service_id, role=query.role, licensed_in=query.licensed_in
        )
    return ConsultantsOut(consultants=[consultant_out(c) for c in found])


@api.operation(
    "GET",
    "/api/v1/consultants/{id}",
    name="get_consultant",
    summary="One consultant",
    scope="consultants:read",
    input=NoInput,
    output=ConsultantOut,
    errors=(404,),
    path_params={"id": "integer"},
)
async def get_consultant(request: web.Request, caller: Caller, _: NoInput) -> ConsultantOut:
    """A consultant by id."""
    consultant_id = int_param(request, "id")
    async with unit_of_work(request) as conn:
        found = await store.get_consultant(conn, consultant_id)
    if found is None:
        raise NotFound("no such consultant")
    return consultant_out(found)


@api.operation(
    "POST",
    "/api/v1/consultants",
    name="create_consultant",
    summary="Add a consultant (hub admin)",
    scope="consultants:write",
    input=ConsultantIn,
    output=ConsultantOut,
    status=201,
    errors=(422,),
    location=at("/api/v1/consultants/{id}"),
)
async def create_consultant(
    request: web.Request, caller: Caller, body: ConsultantIn
) -> ConsultantOut:
    """Add a consultant with their zone, licences and services."""
    async with unit_of_work(request) as conn:
        created = await consultants.create(conn, **body.model_dump())
    return consultant_out(created)
