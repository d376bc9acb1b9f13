"""A clinic's patients: every read and change is audited, and stays within the clinic."""

from __future__ import annotations

import uuid
from datetime import date

import asyncpg

from spokes import store
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import Conflict, Forbidden, NotFound


def _spoke_of(caller: Caller) -> int:
    if caller.spoke_id is None:
        raise Forbidden("patients are kept by their clinic: use a spoke's credentials")
    return caller.spoke_id


async def register(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    *,
    mrn: str,
    given_name: str,
    family_name: str,
    birth_date: date,
    state: str,
    phone: str | None,
    email: str | None,
) -> store.Patient:
    """Add a patient to the caller's clinic; 409 if the MRN is there already."""
    spoke_id = _spoke_of(caller)
    patient = await store.insert_patient(
        conn,
        spoke_id=spoke_id,
        mrn=mrn,
        given_name=given_name,
        family_name=family_name,
        birth_date=birth_date,
        state=state,
        phone=phone,
        email=email,
    )
    if patient is None:
        raise Conflict("this clinic already has a patient with that MRN")
    await audit.record(conn, trail, "create", "patient", [patient.id], spoke_id)
    return patient


async def get(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, patient_id: uuid.UUID
) -> store.Patient:
    """One of the caller's patients; another clinic's answers like a missing one."""
    spoke_id = _spoke_of(caller)
    patient = await store.get_patient(conn, spoke_id, patient_id)
    if patient is None:
        raise NotFound("no such patient")
    await audit.record(conn, trail, "read", "patient", [patient.id], spoke_id)
    return patient


async def find(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, *, mrn: str | None, limit: int
) -> list[store.Patient]:
    """The caller's patients, by MRN when given."""
    spoke_id = _spoke_of(caller)
    found = await store.find_patients(conn, spoke_id, mrn=mrn, limit=limit)
    await audit.record(conn, trail, "read", "patient", [p.id for p in found], spoke_id)
    return found
