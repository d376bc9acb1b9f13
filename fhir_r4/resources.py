"""FHIR R4 resources built from telehub's domain objects (fhir.resources' R4B models, so each
is valid by construction; for these resources R4B is R4 4.0.1 with minor additions).

Choices, for EHR integrators:
- Consultants are a `Practitioner` (who) and a `PractitionerRole` (their role at the hub, the
  specialty as a NUCC provider taxonomy code, the services they offer), both with the
  consultant's id. The states where a consultant is licensed are R4's
  `Practitioner.qualification` (one per state, "License to practise in NY") carrying the Da
  Vinci PDex Plan-Net `practitioner-qualification` extension's `whereValid` (the USPS state
  code), as US provider directories publish licences: telehub has no Location resources, and a
  licence belongs to the person, not the role.
- A telehub service is a `HealthcareService` provided by the hub; `Schedule` is one consultant
  offering one service (`actor` the PractitionerRole, `serviceType` the service), and a `Slot`
  one open time of it (`ids.slot_id`). `serviceType` is coded in `SERVICE_SYSTEM` with the
  service id as the code, so `service-type=<id>` searches work with or without the system.
- `Organization/hub` is the hub; `Organization/clinic-<id>` a clinic. A `Patient` belongs to
  its clinic (`managingOrganization`); the clinic's MRN is its identifier (type MR) in the
  clinic's own system, `mrn_system(spoke_id)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fhir.resources.R4B.healthcareservice import HealthcareService
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.practitioner import Practitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot

from fhir_r4 import ids
from hub.store import Consultant
from scheduling.store import Service
from spokes.store import Patient as ClinicPatient
from spokes.store import Spoke
from telehub.labels import CONSULTANT_ROLES, KINDS

SERVICE_SYSTEM = "urn:telehub:service"  # code: a telehub service id
SERVICE_KIND_SYSTEM = "urn:telehub:service-kind"  # econsult, video_session, ...
ROLE_SYSTEM = "urn:telehub:consultant-role"
CLINIC_SYSTEM = "urn:telehub:clinic"  # value: a clinic's slug
NUCC = "http://nucc.org/provider-taxonomy"
USPS = "https://www.usps.com/"
V2_IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
PLAN_NET_QUALIFICATION = (
    "http://hl7.org/fhir/us/davinci-pdex-plan-net/StructureDefinition/practitioner-qualification"
)
HUB_NAME = "Telehub consultation hub"
# A role's specialty in the NUCC Health Care Provider Taxonomy (what US directories use).
SPECIALTIES: dict[str, tuple[str, str]] = {
    "psychiatric_consultant": ("2084P0800X", "Psychiatry & Neurology, Psychiatry"),
    "addiction_medicine_specialist": ("2084A0401X", "Psychiatry & Neurology, Addiction Medicine"),
    "telehealth_counselor": ("101YM0800X", "Counselor, Mental Health"),
    "peer_recovery_specialist": ("175T00000X", "Peer Specialist"),
}


def mrn_system(spoke_id: int) -> str:
    """The identifier system of a clinic's MRNs (each clinic numbers its own patients)."""
    return f"urn:telehub:clinic:{spoke_id}:mrn"


def _service_type(service: Service) -> dict[str, object]:
    return {
        "coding": [{"system": SERVICE_SYSTEM, "code": str(service.id), "display": service.name}],
        "text": service.name,
    }


def _specialty(role: str) -> list[dict[str, object]]:
    known = SPECIALTIES.get(role)
    if known is None:
        return []
    return [{"coding": [{"system": NUCC, "code": known[0], "display": known[1]}]}]


def _ref(kind: str, id_: str, display: str | None = None) -> dict[str, str]:
    ref = {"reference": f"{kind}/{id_}"}
    if display:
        ref["display"] = display
    return ref


def hub_reference() -> dict[str, str]:
    """A reference to the hub's Organization."""
    return _ref("Organization", ids.organization_id(None), HUB_NAME)


def practitioner(consultant: Consultant) -> Practitioner:
    """A consultant as a Practitioner: the name and credentials, a licence per state."""
    return Practitioner.model_validate(
        {
            "resourceType": "Practitioner",
            "id": str(consultant.id),
            "active": consultant.active,
            "name": [{"text": _named(consultant)}],
            "qualification": [
                {
                    "extension": [
                        {
                            "url": PLAN_NET_QUALIFICATION,
                            "extension": [
                                {"url": "status", "valueCode": "active"},
                                {
                                    "url": "whereValid",
                                    "valueCodeableConcept": {
                                        "coding": [{"system": USPS, "code": state}]
                                    },
                                },
                            ],
                        }
                    ],
                    "code": {"text": f"License to practise in {state} ({consultant.credentials})"},
                }
                for state in consultant.licensed_states
            ]
            or None,
        }
    )


def _named(consultant: Consultant) -> str:
    return (
        f"{consultant.name}, {consultant.credentials}"
        if consultant.credentials
        else (consultant.name)
    )


def practitioner_role(consultant: Consultant, services: Sequence[Service] = ()) -> PractitionerRole:
    """A consultant's role at the hub: the role, the specialty, the services they offer."""
    role = CONSULTANT_ROLES.get(consultant.role, consultant.role)
    return PractitionerRole.model_validate(
        {
            "resourceType": "PractitionerRole",
            "id": str(consultant.id),
            "active": consultant.active,
            "practitioner": _ref("Practitioner", str(consultant.id), _named(consultant)),
            "organization": hub_reference(),
            "code": [
                {"coding": [{"system": ROLE_SYSTEM, "code": consultant.role, "display": role}]}
            ],
            "specialty": _specialty(consultant.role) or None,
            "healthcareService": [_ref("HealthcareService", str(s.id), s.name) for s in services]
            or None,
        }
    )


def healthcare_service(service: Service) -> HealthcareService:
    """A telehub service: what it is (kind), its length, who may deliver it."""
    kind = KINDS.get(service.kind, service.kind)
    minutes = f"{service.duration_minutes} minutes"
    if service.turnaround_hours:
        minutes += f", answered within {service.turnaround_hours} hours"
    roles = ", ".join(CONSULTANT_ROLES.get(r, r) for r in service.roles)
    return HealthcareService.model_validate(
        {
            "resourceType": "HealthcareService",
            "id": str(service.id),
            "active": service.active,
            "providedBy": hub_reference(),
            "category": [
                {"coding": [{"system": SERVICE_KIND_SYSTEM, "code": service.kind, "display": kind}]}
            ],
            "type": [_service_type(service)],
            "name": service.name,
            "comment": f"{kind}, {minutes}" + (f"; delivered by: {roles}" if roles else ""),
            "appointmentRequired": service.kind != "econsult",
        }
    )


def organization(spoke: Spoke | None) -> Organization:
    """The hub (None) or a clinic, as an Organization."""
    if spoke is None:
        return Organization.model_validate(
            {
                "resourceType": "Organization",
                "id": ids.organization_id(None),
                "active": True,
                "type": [{"text": "Telehealth consultation hub"}],
                "name": HUB_NAME,
            }
        )
    return Organization.model_validate(
        {
            "resourceType": "Organization",
            "id": ids.organization_id(spoke.id),
            "active": True,
            "identifier": [{"system": CLINIC_SYSTEM, "value": spoke.slug}],
            "type": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/organization-type",
                            "code": "prov",
                            "display": "Healthcare Provider",
                        }
                    ],
                    "text": "Primary care clinic",
                }
            ],
            "name": spoke.name,
            "address": [{"state": spoke.state, "country": "US"}],
            "partOf": None,
        }
    )


def schedule(consultant: Consultant, service: Service) -> Schedule:
    """One consultant offering one service: the Schedule its Slots belong to."""
    return Schedule.model_validate(
        {
            "resourceType": "Schedule",
            "id": ids.schedule_id(consultant.id, service.id),
            "active": consultant.active and service.active,
            "serviceType": [_service_type(service)],
            "specialty": _specialty(consultant.role) or None,
            "actor": [_ref("PractitionerRole", str(consultant.id), _named(consultant))],
            "comment": f"{service.name} with {consultant.name}",
        }
    )


def slot(
    consultant_id: int,
    service: Service,
    start: datetime,
    end: datetime,
    *,
    status: str = "free",
) -> Slot:
    """One time of a Schedule (`free` as the slot engine offers it, or `busy`)."""
    return Slot.model_validate(
        {
            "resourceType": "Slot",
            "id": ids.slot_id(consultant_id, service.id, start),
            "serviceType": [_service_type(service)],
            "schedule": _ref("Schedule", ids.schedule_id(consultant_id, service.id)),
            "status": status,
            "start": start,
            "end": end,
        }
    )


def patient(p: ClinicPatient) -> Patient:
    """A clinic's patient: the MRN in the clinic's system, the name, birth date, contact."""
    telecom = [{"system": "phone", "value": p.phone}] if p.phone else []
    if p.email:
        telecom.append({"system": "email", "value": p.email})
    return Patient.model_validate(
        {
            "resourceType": "Patient",
            "id": str(p.id),
            "identifier": [
                {
                    "use": "usual",
                    "type": {
                        "coding": [
                            {
                                "system": V2_IDENTIFIER_TYPE,
                                "code": "MR",
                                "display": "Medical record number",
                            }
                        ]
                    },
                    "system": mrn_system(p.spoke_id),
                    "value": p.mrn,
                }
            ],
            "active": True,
            "name": [{"use": "official", "family": p.family_name, "given": [p.given_name]}],
            "telecom": telecom or None,
            "birthDate": p.birth_date,
            "address": [{"state": p.state, "country": "US"}],
            "managingOrganization": _ref("Organization", ids.organization_id(p.spoke_id)),
        }
    )
