"""Signed consult notes as FHIR DocumentReference, read through `consults.notes` so 42 CFR
part 2 applies exactly as on every other face.

A clinic gets a note's text only under a consent in force that covers it: the text as an
attachment, `meta.security` and `securityLabel` the DS4P labels (consults/part2.py), and one
row of the accounting of disclosures with channel "fhir". A note held for the patient's
consent is never disclosed: reading it answers 404 (its OperationOutcome says it waits for a
consent), and a search leaves it out, saying how many were left out in an `outcome` entry.
Drafts do not exist here.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from aiohttp import web

from consults import note_store, notes, part2
from consults.note_store import Note, Subject
from consults.notes import Shown
from fhir_r4 import appointment_resources as res
from fhir_r4.core import (
    FhirRoutes,
    SearchParam,
    bad_parameter,
    fhir_response,
    search_query,
    searchset,
)
from hub import store as hub_store
from spokes import patients
from telehub import audit
from telehub.auth import Caller
from telehub.errors import NotFound
from telehub.request import now_of, trail_of, unit_of_work

fhir = FhirRoutes()
fhir.notes["DocumentReference"] = (
    "Signed consult notes only, under 42 CFR part 2: a disclosed note carries its text as an "
    "attachment, meta.security and securityLabel the DS4P labels, context.related the "
    "ServiceRequest (e-consult) or Appointment it answers, and is accounted for (channel fhir). "
    "A note held for the patient's consent reads 404 and is left out of searches (an outcome "
    "entry says how many)."
)
SEARCH = (SearchParam("patient", "reference", "The clinic's Patient (required)"),)


def _held(note: Note) -> bool:
    return isinstance(note, Shown) and note.held


async def _document(conn: asyncpg.Connection, note: Note) -> dict[str, Any]:
    """The note as a DocumentReference, placed in its chain of signed versions (ids only)."""
    consultant = await hub_store.get_consultant(conn, note.consultant_id)
    author = f"{consultant.name}, {consultant.credentials}" if consultant else "Hub consultant"
    chain = [n for n in await note_store.notes_about(conn, Subject.of(note)) if n.signed_at]
    before = [n for n in chain if n.version < note.version]
    return res.document_reference(
        note,
        text=res.note_text(note.sections),
        labels=part2.security_labels(),
        author=author,
        replaces=before[-1].id if before else None,
        superseded=any(n.version > note.version for n in chain),
    )


@fhir.read("DocumentReference", name="fhir_document_read", scope="notes:read")
async def read(request: web.Request, caller: Caller) -> web.StreamResponse:
    """One signed note, disclosed under Part 2 (accounted for), or 404 while it is held."""
    try:
        note_id = uuid.UUID(request.match_info["id"])
    except ValueError:
        raise NotFound("no such DocumentReference") from None
    async with unit_of_work(request) as conn:
        note = await notes.get(
            conn, caller, trail_of(request, caller), note_id, channel="fhir", now=now_of(request)
        )
        if note.signed_at is None:
            raise NotFound("no such DocumentReference")
        if _held(note):
            raise NotFound(
                "this consult note waits for the patient's 42 CFR part 2 consent and is not "
                "disclosed; it is sent once the clinic records a consent that covers it"
            )
        found = await _document(conn, note)
    return fhir_response(found)


@fhir.search("DocumentReference", name="fhir_document_search", scope="notes:read", params=SEARCH)
async def search(request: web.Request, caller: Caller) -> web.StreamResponse:
    """The signed notes about one of the clinic's patients (`patient` required), newest first."""
    query = search_query(request, SEARCH)
    raw = query.one("patient")
    if raw is None:
        raise bad_parameter("patient", "is required")
    try:
        patient_id = uuid.UUID(raw.removeprefix("Patient/"))
    except ValueError:
        raise bad_parameter("patient", "is not a Patient id this server gave") from None
    trail = trail_of(request, caller)
    async with unit_of_work(request) as conn:
        patient = await patients.get(conn, caller, trail, patient_id)
        signed = await note_store.signed_for_patient(conn, patient.spoke_id, patient.id)
        page = signed[query.offset : query.offset + query.count]
        read_ids = [n.id for n in page]
        await audit.record(conn, trail, "read", "consult_note", read_ids, patient.spoke_id)
        shown = await notes.as_shown(conn, caller, trail, page, channel="fhir", now=now_of(request))
        documents = [await _document(conn, n) for n in shown if not _held(n)]
    held = sum(1 for n in shown if _held(n))
    # A page is of every signed note, held ones too, so paging never skips or repeats one.
    more = len(signed) > query.offset + query.count
    next_offset = query.offset + query.count if more else None
    bundle = searchset(request, documents, total=None, next_offset=next_offset)
    if held:
        bundle.setdefault("entry", []).append(
            {
                "resource": res.information(
                    f"{held} signed consult note(s) wait for the patient's 42 CFR part 2 "
                    "consent and are not disclosed",
                    "DocumentReference",
                ),
                "search": {"mode": "outcome"},
            }
        )
    return fhir_response(bundle)
