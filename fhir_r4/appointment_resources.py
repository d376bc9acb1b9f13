"""FHIR R4 resources for bookings, holds, consult notes and e-consults, and the reading of the
Parameters the booking operations take. Built with the R4B models of `fhir.resources` (for
these resources R4B is R4 with minor additions), so every resource is valid by construction.

A hold is an Appointment with status `pending`, id `hold-<uuid>`, and its expiry in the
extension HOLD_EXPIRES (valueInstant); the CapabilityStatement names the extension.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.parameters import Parameters
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task
from pydantic import ValidationError

from consults.note_store import Note
from consults.store import Econsult
from fhir_r4 import ids
from fhir_r4.core import dumped, element_path
from fhir_r4.resources import SERVICE_SYSTEM
from scheduling.booking_store import Booking
from scheduling.bookings import reference
from scheduling.hold_store import Hold
from scheduling.slots import Slot
from telehub.errors import BadRequest, FieldError, ValidationFailed

HOLD_EXPIRES: Final = "urn:telehub:extension:hold-expires"  # valueInstant
BOOKING_REFERENCE: Final = "urn:telehub:booking-reference"  # value: TH-XXXXXXXX
ECONSULT_CATEGORY: Final = "urn:telehub:service-kind"
HOLD_PREFIX: Final = "hold-"

# The booking's status in FHIR's words.
APPOINTMENT_STATUS: Final = {
    "booked": "booked",
    "cancelled": "cancelled",
    "completed": "fulfilled",
    "no_show": "noshow",
}
# The e-consult's loop as a Task's status (FHIR Task state machine).
TASK_STATUS: Final = {
    "submitted": "requested",
    "assigned": "accepted",
    "awaiting_clinic": "on-hold",
    "answered": "completed",
    "closed": "completed",
    "cancelled": "cancelled",
}


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _ref(kind: str, value: object) -> dict[str, str]:
    return {"reference": f"{kind}/{value}"}


def _service_type(service_id: int) -> list[dict[str, Any]]:
    return [{"coding": [{"system": SERVICE_SYSTEM, "code": str(service_id)}]}]


def _participants(patient_id: uuid.UUID | None, consultant_id: int, status: str) -> list[Any]:
    people: list[dict[str, Any]] = [
        {"actor": _ref("Practitioner", consultant_id), "required": "required", "status": status}
    ]
    if patient_id is not None:
        people.insert(
            0, {"actor": _ref("Patient", patient_id), "required": "required", "status": status}
        )
    return people


def appointment(booking: Booking) -> dict[str, Any]:
    """A booking as an Appointment, referencing the Slot it took."""
    fields: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(booking.id),
        "meta": {"versionId": str(booking.sequence), "lastUpdated": _instant(booking.updated_at)},
        "identifier": [{"system": BOOKING_REFERENCE, "value": reference(booking.id)}],
        "status": APPOINTMENT_STATUS[booking.status],
        "serviceType": _service_type(booking.service_id),
        "start": _instant(booking.start),
        "end": _instant(booking.end),
        "created": _instant(booking.created_at),
        "slot": [
            _ref("Slot", ids.slot_id(booking.consultant_id, booking.service_id, booking.start))
        ],
        "participant": _participants(booking.patient_id, booking.consultant_id, "accepted"),
    }
    if booking.cancel_reason:
        fields["cancelationReason"] = {"text": booking.cancel_reason}
    return _valid(Appointment, fields)


def held_appointment(hold: Hold) -> dict[str, Any]:
    """A hold as a pending Appointment, its expiry in the HOLD_EXPIRES extension."""
    fields: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": HOLD_PREFIX + str(hold.id),
        "extension": [{"url": HOLD_EXPIRES, "valueInstant": _instant(hold.expires_at)}],
        "status": "pending" if hold.status == "active" else "cancelled",
        "serviceType": _service_type(hold.service_id),
        "start": _instant(hold.start),
        "end": _instant(hold.end),
        "created": _instant(hold.created_at),
        "slot": [_ref("Slot", ids.slot_id(hold.consultant_id, hold.service_id, hold.start))],
        "participant": _participants(hold.patient_id, hold.consultant_id, "tentative"),
    }
    if hold.status != "active":
        fields["cancelationReason"] = {"text": _HOLD_ENDED[hold.status]}
    if hold.booking_id is not None:
        # The booking the hold became: R4 Appointment has no successor link of its own.
        fields["supportingInformation"] = [_ref("Appointment", hold.booking_id)]
    return _valid(Appointment, fields)


_HOLD_ENDED: Final = {
    "booked": "the hold was booked",
    "released": "the clinic released the hold",
    "expired": "the hold expired",
}


def proposed_appointment(slot: Slot, patient_id: uuid.UUID | None) -> dict[str, Any]:
    """An open slot offered by $find as a proposed Appointment (not stored: it has no id)."""
    return _valid(
        Appointment,
        {
            "resourceType": "Appointment",
            "status": "proposed",
            "serviceType": _service_type(slot.service_id),
            "start": _instant(slot.start),
            "end": _instant(slot.end),
            "slot": [_ref("Slot", ids.slot_id(slot.consultant_id, slot.service_id, slot.start))],
            "participant": _participants(patient_id, slot.consultant_id, "needs-action"),
        },
    )


def hold_id_of(appointment_id: str) -> uuid.UUID | None:
    """The hold behind a pending Appointment's id, or None when it is not a hold's."""
    if not appointment_id.startswith(HOLD_PREFIX):
        return None
    try:
        return uuid.UUID(appointment_id.removeprefix(HOLD_PREFIX))
    except ValueError:
        return None


def document_reference(
    note: Note,
    *,
    text: str,
    labels: Sequence[dict[str, str]],
    author: str,
    replaces: uuid.UUID | None = None,
    superseded: bool = False,
) -> dict[str, Any]:
    """A disclosed, signed consult note: its text as an attachment, what it answers in
    `context.related`, the DS4P labels of 42 CFR part 2 in `meta.security`. An amendment
    `replaces` the version before it; a version with a newer one is `superseded`."""
    related: list[dict[str, str]] = []
    if note.econsult_id is not None:
        related.append(_ref("ServiceRequest", note.econsult_id))
    if note.booking_id is not None:
        related.append(_ref("Appointment", note.booking_id))
    assert note.signed_at is not None
    fields: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": str(note.id),
        "meta": {"versionId": str(note.version), "security": list(labels)},
        "status": "superseded" if superseded else "current",
        "docStatus": "amended" if replaces is not None else "final",
        "type": {
            "coding": [{"system": "http://loinc.org", "code": "11488-4", "display": "Consult note"}]
        },
        "subject": _ref("Patient", note.patient_id),
        "date": _instant(note.signed_at),
        "author": [{**_ref("Practitioner", note.consultant_id), "display": author}],
        "securityLabel": [{"coding": [label]} for label in labels],
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "data": base64.b64encode(text.encode()).decode(),
                    "title": f"Consult note, version {note.version}",
                    "creation": _instant(note.signed_at),
                }
            }
        ],
    }
    if related:
        fields["context"] = {"related": related}
    if replaces is not None:
        fields["relatesTo"] = [{"code": "replaces", "target": _ref("DocumentReference", replaces)}]
    return _valid(DocumentReference, fields)


def _words(name: str) -> str:
    return name.replace("_", " ").capitalize()


def note_text(sections: dict[str, Any]) -> str:
    """A note's sections as plain text: a heading per section, a line per part of a section
    with parts (recommendations: MOUD, medications, ...), yes/no for a flag; empty parts left
    out."""
    parts = []
    for name, value in sections.items():
        if isinstance(value, dict):
            lines = [f"- {_words(k)}: {v}" for k, v in value.items() if v not in ("", None)]
            body = "\n".join(lines)
        elif isinstance(value, bool):
            body = "Yes" if value else "No"
        else:
            body = str(value)
        if body:
            parts.append(f"{_words(name)}:\n{body}")
    return "\n\n".join(parts)


def service_request(econsult: Econsult) -> dict[str, Any]:
    """An e-consult as the ServiceRequest the clinic sent."""
    status = {"cancelled": "revoked", "answered": "completed", "closed": "completed"}
    return _valid(
        ServiceRequest,
        {
            "resourceType": "ServiceRequest",
            "id": str(econsult.id),
            "status": status.get(econsult.status, "active"),
            "intent": "order",
            "priority": "urgent" if econsult.urgency == "urgent" else "routine",
            "category": [{"coding": [{"system": ECONSULT_CATEGORY, "code": "econsult"}]}],
            "code": {"coding": [{"system": SERVICE_SYSTEM, "code": str(econsult.service_id)}]},
            "subject": _ref("Patient", econsult.patient_id),
            "authoredOn": _instant(econsult.submitted_at),
            "requester": _ref("Organization", ids.organization_id(econsult.spoke_id)),
            "occurrenceDateTime": _instant(econsult.due_at),
        },
    )


def task(econsult: Econsult, *, drafting: bool) -> dict[str, Any]:
    """The loop of an e-consult as a Task: requested, accepted, in-progress while the
    consultant writes the note (`drafting`), on-hold while the hub waits for the clinic,
    completed once the note is signed. Its id is the e-consult's."""
    status = "in-progress" if drafting else TASK_STATUS[econsult.status]
    fields: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(econsult.id),
        "status": status,
        "intent": "order",
        "priority": "urgent" if econsult.urgency == "urgent" else "routine",
        "focus": _ref("ServiceRequest", econsult.id),
        "basedOn": [_ref("ServiceRequest", econsult.id)],
        "for": _ref("Patient", econsult.patient_id),
        "authoredOn": _instant(econsult.submitted_at),
        "lastModified": _instant(
            econsult.closed_at
            or econsult.answered_at
            or econsult.paused_at
            or econsult.submitted_at
        ),
        "restriction": {"period": {"end": _instant(econsult.due_at)}},
    }
    if econsult.consultant_id is not None:
        fields["owner"] = _ref("Practitioner", econsult.consultant_id)
    return _valid(Task, fields)


def _valid(model: Any, fields: dict[str, Any]) -> dict[str, Any]:
    built = model.model_validate(fields)
    dumped: dict[str, Any] = built.model_dump(mode="json", exclude_none=True)
    return dumped


# Reading Parameters.


def _invalid(expression: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{expression}: {detail}", errors=[FieldError(expression, detail)])


@dataclass(frozen=True, slots=True)
class Params:
    """A Parameters resource read by name: each name's parameter parts."""

    parts: dict[str, list[dict[str, Any]]]

    @classmethod
    def of(cls, given: Parameters) -> Params:
        """The parameters of a Parameters resource (already valid R4B), by name."""
        parts: dict[str, list[dict[str, Any]]] = {}
        for parameter in dumped(given).get("parameter", []):
            parts.setdefault(parameter["name"], []).append(parameter)
        return cls(parts)

    def one(self, name: str) -> dict[str, Any] | None:
        """The parameter of that name (422 if given more than once)."""
        found = self.parts.get(name, [])
        if len(found) > 1:
            raise _invalid(name, "is given more than once")
        return found[0] if found else None

    def text(self, name: str) -> str | None:
        """A string, code, token or Coding's code value."""
        p = self.one(name)
        if p is None:
            return None
        for key in ("valueString", "valueCode", "valueId", "valueUri"):
            if isinstance(p.get(key), str):
                return str(p[key])
        if isinstance(p.get("valueCoding"), dict) and p["valueCoding"].get("code"):
            return str(p["valueCoding"]["code"])
        concept = p.get("valueCodeableConcept")
        if isinstance(concept, dict) and concept.get("coding"):
            return str(concept["coding"][0].get("code"))
        raise _invalid(name, "must be a string, code, Coding or CodeableConcept")

    def instant(self, name: str) -> datetime | None:
        """A dateTime or date value, as an aware datetime (a date is midnight UTC)."""
        p = self.one(name)
        if p is None:
            return None
        raw = p.get("valueDateTime") or p.get("valueInstant") or p.get("valueDate")
        if not isinstance(raw, str):
            raise _invalid(name, "must be a dateTime")
        try:
            value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise _invalid(name, "must be a dateTime") from None
        if value.tzinfo is None:
            if "T" in raw:
                raise _invalid(name, "must have a time zone offset")
            value = value.replace(tzinfo=UTC)
        return value

    def reference(self, name: str, kind: str) -> str | None:
        """The id in a `valueReference` (or a `valueString`) "<kind>/<id>"."""
        p = self.one(name)
        if p is None:
            return None
        raw = (p.get("valueReference") or {}).get("reference") or p.get("valueString")
        if not isinstance(raw, str) or not raw.startswith(f"{kind}/") or raw == f"{kind}/":
            raise _invalid(name, f"must reference a {kind} as '{kind}/<id>'")
        return raw.removeprefix(f"{kind}/")

    def resource(self, name: str, kind: str) -> dict[str, Any] | None:
        """An embedded resource of that type."""
        p = self.one(name)
        if p is None:
            return None
        res = p.get("resource")
        if not isinstance(res, dict) or res.get("resourceType") != kind:
            raise _invalid(name, f"must carry an {kind} resource")
        return res


def patient_of(resource: dict[str, Any], where: str) -> uuid.UUID | None:
    """The Patient among an Appointment's participants (422 naming it when malformed)."""
    found = None
    for n, person in enumerate(resource.get("participant") or []):
        ref = ((person or {}).get("actor") or {}).get("reference") or ""
        if ref.startswith("Patient/"):
            try:
                found = uuid.UUID(ref.removeprefix("Patient/"))
            except ValueError:
                raise _invalid(
                    f"{where}.participant[{n}].actor", "is not a Patient of this server"
                ) from None
    return found


def slot_of(resource: dict[str, Any], where: str) -> ids.SlotKey:
    """The one Slot an Appointment references (422 naming `slot` otherwise)."""
    slots = resource.get("slot") or []
    if len(slots) != 1:
        raise _invalid(f"{where}.slot", "must reference exactly one Slot")
    ref = (slots[0] or {}).get("reference") or ""
    if not ref.startswith("Slot/"):
        raise _invalid(f"{where}.slot[0]", "must reference a Slot as 'Slot/<id>'")
    key = ids.parse_slot_id(ref.removeprefix("Slot/"))
    if key is None:
        raise _invalid(f"{where}.slot[0]", "is not a Slot id this server gave")
    return key


def validate_appointment(resource: dict[str, Any], where: str) -> None:
    """400 naming each element when the Appointment is not valid R4."""
    try:
        Appointment.model_validate(resource)
    except ValidationError as exc:
        errors = [FieldError(element_path(where, e["loc"]), e["msg"]) for e in exc.errors()]
        raise BadRequest(
            f"{where} is not valid FHIR R4: " + "; ".join(e.field for e in errors), errors=errors
        ) from None


def proposals(entries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """$find's answer: a searchset Bundle of proposed Appointments (not stored, so each entry's
    fullUrl is a urn:uuid)."""
    items = [
        {"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": e, "search": {"mode": "match"}}
        for e in entries
    ]
    doc: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": len(items)}
    if items:
        doc["entry"] = items
    return _valid(Bundle, doc)


def information(text: str, expression: str | None = None) -> dict[str, Any]:
    """An informational OperationOutcome: what a search left out, and why."""
    issue: dict[str, Any] = {"severity": "information", "code": "suppressed", "diagnostics": text}
    if expression:
        issue["expression"] = [expression]
    return _valid(OperationOutcome, {"resourceType": "OperationOutcome", "issue": [issue]})
