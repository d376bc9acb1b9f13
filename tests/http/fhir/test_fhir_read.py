"""FHIR reads and searches of the directory and of the clinic's Patients: valid R4B, paged,
tenancy (another clinic's Patient answers 404 like a missing one), every Patient read audited."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from fhir_r4.resources import NUCC, PLAN_NET_QUALIFICATION, USPS, mrn_system
from tests.factories import Network, SpokeUser
from tests.http.fhir.conftest import FhirClient, issue_expressions, next_link


def _ids(resources: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in resources]


async def test_a_consultant_is_a_practitioner_licensed_by_state_and_a_role(
    network: Network, fhir: FhirClient
) -> None:
    video = await network.service(name="Video visit")
    review = await network.service(kind="case_review", name="Case review", duration_minutes=30)
    consultant = await network.consultant(
        [video, review], states=("VT", "NY"), role="addiction_medicine_specialist"
    )

    practitioner = await fhir.read("Practitioner", str(consultant.id))

    assert practitioner["name"] == [{"text": f"{consultant.name}, MD"}]
    licensed = [
        sub["valueCodeableConcept"]["coding"][0]
        for q in practitioner["qualification"]
        for ext in q["extension"]
        if ext["url"] == PLAN_NET_QUALIFICATION
        for sub in ext["extension"]
        if sub["url"] == "whereValid"
    ]
    assert sorted(licensed, key=str) == [
        {"system": USPS, "code": "NY"},
        {"system": USPS, "code": "VT"},
    ]
    role = await fhir.read("PractitionerRole", str(consultant.id))
    assert role["practitioner"]["reference"] == f"Practitioner/{consultant.id}"
    assert role["organization"]["reference"] == "Organization/hub"
    assert role["code"][0]["coding"][0]["code"] == "addiction_medicine_specialist"
    assert role["specialty"][0]["coding"][0] == {
        "system": NUCC,
        "code": "2084A0401X",
        "display": "Psychiatry & Neurology, Addiction Medicine",
    }
    assert sorted(s["reference"] for s in role["healthcareService"]) == sorted(
        [f"HealthcareService/{video.id}", f"HealthcareService/{review.id}"]
    )


async def test_practitioners_and_roles_are_searched_and_paged(
    network: Network, fhir: FhirClient
) -> None:
    video = await network.service()
    other = await network.service()
    people = [await network.consultant([video]) for _ in range(3)]
    counselor = await network.consultant([other], role="telehealth_counselor")

    page = await fhir.search("Practitioner", {"_count": "2"})
    assert page["total"] == 4 and len(page["entry"]) == 2
    assert next_link(page) is not None
    assert sorted(_ids(await fhir.every("Practitioner", {"_count": "2"}))) == sorted(
        str(c.id) for c in [*people, counselor]
    )
    named = await fhir.every("Practitioner", {"name": counselor.name.split()[-1]})
    assert _ids(named) == [str(counselor.id)]
    offering = await fhir.every("PractitionerRole", {"service": f"HealthcareService/{video.id}"})
    assert sorted(_ids(offering)) == sorted(str(c.id) for c in people)
    counselors = await fhir.every("PractitionerRole", {"specialty": f"{NUCC}|101YM0800X"})
    assert _ids(counselors) == [str(counselor.id)]
    by_role = await fhir.every("PractitionerRole", {"role": "telehealth_counselor"})
    assert _ids(by_role) == [str(counselor.id)]
    assert await fhir.every("Practitioner", {"active": "false"}) == []


async def test_services_are_healthcare_services_and_schedules(
    network: Network, fhir: FhirClient
) -> None:
    video = await network.service(name="Video visit")
    econsult = await network.service(kind="econsult", name="OUD e-consult", turnaround_hours=8)
    group = await network.service(kind="group_session", name="Recovery group")
    consultant = await network.consultant([video, econsult, group])

    service = await fhir.read("HealthcareService", str(econsult.id))
    assert service["name"] == "OUD e-consult"
    assert service["category"][0]["coding"][0]["code"] == "econsult"
    assert service["providedBy"]["reference"] == "Organization/hub"
    kinds = await fhir.every("HealthcareService", {"service-category": "video_session"})
    assert _ids(kinds) == [str(video.id)]
    # A group session has seats in groups, not a Schedule of 1:1 slots.
    schedules = await fhir.every("Schedule", {"actor": f"PractitionerRole/{consultant.id}"})
    assert sorted(_ids(schedules)) == sorted(
        [f"{consultant.id}-{video.id}", f"{consultant.id}-{econsult.id}"]
    )
    one = await fhir.read("Schedule", f"{consultant.id}-{video.id}")
    assert one["actor"][0]["reference"] == f"PractitionerRole/{consultant.id}"
    assert one["serviceType"][0]["coding"][0]["code"] == str(video.id)
    assert one in schedules
    only_video = await fhir.every("Schedule", {"service-type": f"urn:telehub:service|{video.id}"})
    assert _ids(only_video) == [f"{consultant.id}-{video.id}"]
    await fhir.read("Schedule", f"{consultant.id}-{group.id}", status=404)
    await fhir.read("HealthcareService", "999999", status=404)


async def test_a_clinic_sees_the_hub_and_itself_not_another_clinic(
    network: Network, fhir: FhirClient, clinic_user: SpokeUser
) -> None:
    other = await network.spoke()

    hub = await fhir.read("Organization", "hub")
    mine = await fhir.read("Organization", f"clinic-{clinic_user.id}")

    assert hub["name"] and mine["name"] == clinic_user.name
    assert _ids(await fhir.every("Organization")) == ["hub", f"clinic-{clinic_user.id}"]
    hidden = await fhir.read("Organization", f"clinic-{other.id}", status=404)
    missing = await fhir.read("Organization", "clinic-999999", status=404)
    assert hidden["issue"] == missing["issue"]


async def test_a_clinics_patient_is_read_and_found_and_every_read_is_audited(
    network: Network, fhir: FhirClient, clinic_user: SpokeUser, conn: asyncpg.Connection
) -> None:
    patient = await network.patient(clinic_user, family_name="Quimby")
    await network.patient(clinic_user, family_name="Abbott")

    read = await fhir.read("Patient", str(patient.id))

    assert read["identifier"][0]["system"] == mrn_system(clinic_user.id)
    assert read["identifier"][0]["value"] == patient.mrn
    assert read["identifier"][0]["type"]["coding"][0]["code"] == "MR"
    assert read["name"][0]["family"] == "Quimby"
    assert read["birthDate"] == "1980-01-01"
    assert read["managingOrganization"]["reference"] == f"Organization/clinic-{clinic_user.id}"
    by_mrn = await fhir.search(
        "Patient", {"identifier": f"{mrn_system(clinic_user.id)}|{patient.mrn}"}
    )
    assert by_mrn["total"] == 1 and by_mrn["entry"][0]["resource"] == read
    plain_mrn = await fhir.search("Patient", {"identifier": patient.mrn})
    assert _ids([e["resource"] for e in plain_mrn["entry"]]) == [str(patient.id)]
    by_name = await fhir.every("Patient", {"name": "quim"})
    assert _ids(by_name) == [str(patient.id)]
    elsewhere = await fhir.search("Patient", {"identifier": f"urn:other|{patient.mrn}"})
    assert elsewhere["total"] == 0
    rows = await conn.fetch(
        "SELECT action, record_type, record_id, spoke_id FROM audit_log WHERE record_id = $1",
        str(patient.id),
    )
    # read, by MRN with and without the system, by name: each shown patient is audited.
    assert len(rows) == 4
    assert {(r["action"], r["record_type"], r["spoke_id"]) for r in rows} == {
        ("read", "patient", clinic_user.id)
    }


async def test_patients_are_paged_with_next_links(
    network: Network, fhir: FhirClient, clinic_user: SpokeUser
) -> None:
    made = [await network.patient(clinic_user, family_name=f"Page{n}") for n in range(5)]

    first = await fhir.search("Patient", {"_count": "2"})

    assert len(first["entry"]) == 2
    assert "total" not in first  # not known without reading further patients
    found = await fhir.every("Patient", {"_count": "2"})
    assert sorted(_ids(found)) == sorted(str(p.id) for p in made)
    last = await fhir.search("Patient", {"_count": "10"})
    assert last["total"] == 5 and next_link(last) is None


async def test_another_clinics_patient_answers_404_like_a_missing_one(
    client: TestClient,
    network: Network,
    fhir: FhirClient,
    clinic_user: SpokeUser,
    conn: asyncpg.Connection,
) -> None:
    other = await network.spoke()
    theirs = await network.patient(other, family_name="Elsewhere")

    hidden = await fhir.read("Patient", str(theirs.id), status=404)
    missing = await fhir.read("Patient", str(uuid.uuid4()), status=404)
    malformed = await fhir.read("Patient", "not-a-uuid", status=404)

    assert hidden["issue"] == missing["issue"] == malformed["issue"]
    assert hidden["issue"][0]["code"] == "not-found"
    assert await fhir.every("Patient", {"name": "Elsewhere"}) == []
    assert await fhir.every("Patient", {"identifier": theirs.mrn}) == []
    assert (
        await conn.fetchval("SELECT count(*) FROM audit_log WHERE record_id = $1", str(theirs.id))
        == 0
    )
    # Their own clinic reads them.
    theirs_read = await FhirClient(client, other.headers).read("Patient", str(theirs.id))
    assert theirs_read["id"] == str(theirs.id)


async def test_the_hub_may_not_read_patients(client: TestClient, network: Network) -> None:
    hub = FhirClient(client, network.hub_admin_headers())
    spoke = await network.spoke()
    patient = await network.patient(spoke)

    refused = await hub.read("Patient", str(patient.id), status=403)

    assert refused["issue"][0]["code"] == "forbidden"


async def test_bad_directory_parameters_are_refused_by_name(
    network: Network, fhir: FhirClient
) -> None:
    await network.consultant([await network.service()], hours=((2, time(9), time(10)),))
    cases: list[tuple[str, dict[str, str], str]] = [
        ("Practitioner", {"active": "maybe"}, "active"),
        ("Practitioner", {"family": "x"}, "family"),
        ("PractitionerRole", {"practitioner": "Patient/1"}, "practitioner"),
        ("PractitionerRole", {"specialty": "http://snomed.info/sct|394587001"}, "specialty"),
        ("Schedule", {"actor": "PractitionerRole/x"}, "actor"),
        ("Patient", {"identifier": "urn:x|"}, "identifier"),
        ("Patient", {"birthdate": "1980-01-01"}, "birthdate"),
        ("Patient", {"name": ""}, "name"),
        ("Organization", {"_count": "501"}, "_count"),
    ]
    for kind, params, named in cases:
        outcome = await fhir.search(kind, params, status=400)
        assert issue_expressions(outcome) == [named], (kind, params, outcome)
