"""Spoke API: a clinic's patients."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import asyncpg
from aiohttp import web
from pydantic import Field, field_validator

from spokes import patients, store
from telehub.api import ApiRoutes, at
from telehub.auth import Caller
from telehub.fields import OneLine, UsState
from telehub.idempotency import idempotent
from telehub.request import trail_of, unit_of_work, uuid_param
from telehub.validation import Input, NoInput, Output, UtcDatetime

api = ApiRoutes(tag="spokes")


class PatientIn(Input):
    """A new patient of the caller's clinic."""

    mrn: OneLine = Field(
        min_length=1, max_length=64, description="The clinic's medical record number"
    )
    given_name: OneLine = Field(min_length=1, max_length=100)
    family_name: OneLine = Field(min_length=1, max_length=100)
    birth_date: date = Field(
        description="Between 1900-01-01 and today", json_schema_extra={"pattern": r"^(19|20)\d\d-"}
    )
    state: UsState = Field(description="State of residence: where a video visit takes place")
    phone: OneLine | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")

    @field_validator("birth_date")
    @classmethod
    def _plausible(cls, value: date) -> date:
        if not date(1900, 1, 1) <= value <= datetime.now(UTC).date():
            raise ValueError("must be a date between 1900-01-01 and today")
        return value


class PatientOut(Output):
    """A patient of the caller's clinic."""

    id: uuid.UUID
    spoke_id: int
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    state: str
    phone: str | None
    email: str | None
    created_at: UtcDatetime


class PatientsOut(Output):
    """The clinic's matching patients."""

    patients: list[PatientOut]


class PatientQuery(Input):
    """Find patients of the caller's clinic."""

    mrn: OneLine | None = Field(None, min_length=1, max_length=64)
    limit: int = Field(50, ge=1, le=200)


def patient_out(p: store.Patient) -> PatientOut:
    """The API view of a patient."""
    return PatientOut(
        id=p.id,
        spoke_id=p.spoke_id,
        mrn=p.mrn,
        given_name=p.given_name,
        family_name=p.family_name,
        birth_date=p.birth_date,
        state=p.state,
        phone=p.phone,
        email=p.email,
        created_at=p.created_at,
    )


@api.operation(
    "POST",
    "/api/v1/patients",
    name="create_patient",
    summary="Add a patient to the clinic",
    scope="patients:write",
    input=PatientIn,
    output=PatientOut,
    status=201,
    errors=(409, 422),
    headers={"Idempotency-Key": "optional"},
    location=at("/api/v1/patients/{id}"),
)
async def create_patient(request: web.Request, caller: Caller, body: PatientIn) -> web.Response:
    """Register a patient; 409 if the clinic has the MRN already."""

    async def work(conn: asyncpg.Connection) -> PatientOut:
        created = await patients.register(
            conn, caller, trail_of(request, caller), **body.model_dump()
        )
        return patient_out(created)

    return await idempotent(request, caller, body, work, status=201, key_required=False)


@api.operation(
    "GET",
    "/api/v1/patients",
    name="find_patients",
    summary="Find the clinic's patients",
    scope="patients:read",
    input=PatientQuery,
    output=PatientsOut,
    errors=(422,),
)
async def find_patients(request: web.Request, caller: Caller, query: PatientQuery) -> PatientsOut:
    """Patients of the caller's clinic, by MRN."""
    async with unit_of_work(request) as conn:
        found = await patients.find(
            conn, caller, trail_of(request, caller), mrn=query.mrn, limit=query.limit
        )
    return PatientsOut(patients=[patient_out(p) for p in found])


@api.operation(
    "GET",
    "/api/v1/patients/{id}",
    name="get_patient",
    summary="One of the clinic's patients",
    scope="patients:read",
    input=NoInput,
    output=PatientOut,
    errors=(404,),
    path_params={"id": "uuid"},
)
async def get_patient(request: web.Request, caller: Caller, _: NoInput) -> PatientOut:
    """A patient of the caller's clinic (another clinic's answers 404)."""
    patient_id = uuid_param(request, "id")
    async with unit_of_work(request) as conn:
        found = await patients.get(conn, caller, trail_of(request, caller), patient_id)
    return patient_out(found)
