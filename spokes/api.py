"""Spoke API: a clinic's patients."""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from datetime import UTC, date, datetime

import asyncpg
from aiohttp import web
from pydantic import Field, field_validator, model_validator

from spokes import patients, store
from telehub.api import ApiRoutes, at
from telehub.auth import Caller
from telehub.errors import FieldError, PossibleDuplicate, ValidationFailed
from telehub.fields import OneLine, UsState
from telehub.idempotency import idempotent
from telehub.request import trail_of, unit_of_work, uuid_param
from telehub.validation import FieldNamedError, Input, NoInput, Output, UtcDatetime

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
    confirm_new: bool = Field(
        False,
        description="Add the patient although the clinic has one with the same names and birth "
        "date (a 409 possible-duplicate listed them); a same-MRN patient is never added again",
    )

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
    """The clinic's matching patients, best first."""

    patients: list[PatientOut]
    next_cursor: str | None = Field(description="Give as cursor for the next page; null: no more")


_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class PatientQuery(Input):
    """Find patients of the caller's clinic: by q (name, MRN or birth date), or by exact MRN."""

    q: OneLine | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="Any part of the family or given name (case and accents ignored), an MRN "
        "(case, spaces and dashes ignored) or a birth date (YYYY-MM-DD). Best matches first: "
        "exact MRN, then exact birth date, then a name starting with q, then a name holding it",
    )
    mrn: OneLine | None = Field(
        None, min_length=1, max_length=64, description="Exactly this MRN (as written)"
    )
    limit: int = Field(50, ge=1, le=200)
    cursor: OneLine | None = Field(None, max_length=200, description="next_cursor of the last page")

    @field_validator("q")
    @classmethod
    def _searchable(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must hold a name, an MRN or a birth date")
        if value is not None and _DATE_LIKE.match(value.strip()):
            try:
                date.fromisoformat(value.strip())
            except ValueError:
                raise ValueError("is not a date: write a birth date as YYYY-MM-DD") from None
        return value

    @model_validator(mode="after")
    def _one_way(self) -> PatientQuery:
        if self.q is not None and self.mrn is not None:
            raise FieldNamedError("q", "give q or mrn, not both")
        return self


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"p1:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    """Where a cursor this API gave starts (a position in the ranked answer: no names in it)."""
    if cursor is None:
        return 0
    try:
        kind, _, offset = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        if kind != "p1" or not offset.isdigit() or int(offset) > 1_000_000:
            raise ValueError("not ours")
        return int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "cursor: not a cursor this API gave", errors=[FieldError("cursor", "is not valid")]
        ) from None


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
    """Register a patient. 409 possible-duplicate, with the candidates, when the clinic has a
    patient with the same MRN (ignoring case, spaces and dashes: never added again) or with the
    same names and birth date (ignoring case and accents: added with "confirm_new": true)."""
    trail = trail_of(request, caller)

    async def work(conn: asyncpg.Connection) -> PatientOut:
        created = await patients.register(conn, caller, trail, **body.model_dump())
        return patient_out(created)

    try:
        return await idempotent(request, caller, body, work, status=201, key_required=False)
    except PossibleDuplicate as refused:
        async with unit_of_work(request) as conn:
            await patients.candidates_shown(conn, caller, trail, refused)
        raise


@api.operation(
    "GET",
    "/api/v1/patients",
    name="find_patients",
    summary="Find the clinic's patients by name, MRN or birth date",
    scope="patients:read",
    input=PatientQuery,
    output=PatientsOut,
    errors=(422,),
)
async def find_patients(request: web.Request, caller: Caller, query: PatientQuery) -> PatientsOut:
    """Patients of the caller's clinic matching q, best first: exact MRN (ignoring case, spaces
    and dashes), then exact birth date, then a name starting with q, then a name holding q
    (family or given, case and accents ignored). With mrn instead, exactly that MRN; with
    neither, every patient by name. A page at a time: follow next_cursor."""
    offset = _offset(query.cursor)
    trail = trail_of(request, caller)
    async with unit_of_work(request) as conn:
        if query.q is not None:
            matches = await patients.search(
                conn, caller, trail, query.q, offset=offset, limit=query.limit
            )
            found, more = matches.patients, matches.more
        else:
            found, more = await patients.listed(
                conn, caller, trail, mrn=query.mrn, offset=offset, limit=query.limit
            )
    return PatientsOut(
        patients=[patient_out(p) for p in found],
        next_cursor=_cursor(offset + len(found)) if more else None,
    )


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
