"""FHIR Slot search and read: the JSON API's free slots, with stable ids that round-trip."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from aiohttp.test_utils import TestClient

from fhir_r4 import ids
from tests.factories import Network, SpokeUser, booking, slot_starts
from tests.http.fhir.conftest import FhirClient, issue_expressions, next_link

MONDAY = "2027-03-08"
TWO_WEEKS = {"start": [f"ge{MONDAY}", "lt2027-03-22"]}


def _starts(slots: list[dict[str, Any]]) -> list[str]:
    return [s["start"] for s in slots]


async def test_slot_search_pages_the_same_slots_as_the_json_api(
    client: TestClient, network: Network, fhir: FhirClient, clinic_user: SpokeUser
) -> None:
    video = await network.service(name="Video visit")
    first = await network.consultant([video])
    second = await network.consultant([video], hours=((1, time(9), time(11)),))
    params = [
        ("service-type", f"urn:telehub:service|{video.id}"),
        ("start", f"ge{MONDAY}T00:00:00Z"),
        ("start", "lt2027-03-22T00:00:00+00:00"),
        ("patient-state", "VT"),
        ("status", "free"),
        ("_count", "4"),
    ]

    page = await fhir.search("Slot", params)

    expected = await slot_starts(
        client,
        clinic_user.headers,
        video.id,
        start=f"{MONDAY}T00:00:00Z",
        end="2027-03-22T00:00:00Z",
    )
    assert len(expected) == 10  # 3 on each Monday, 2 on each Tuesday
    assert page["total"] == 10
    assert len(page["entry"]) == 4
    assert next_link(page) is not None
    every = await fhir.every("Slot", params)
    assert [s["start"] for s in every] == expected
    assert {s["schedule"]["reference"] for s in every} == {
        f"Schedule/{first.id}-{video.id}",
        f"Schedule/{second.id}-{video.id}",
    }
    for s in every:
        key = ids.parse_slot_id(s["id"])
        assert key is not None
        assert s["id"] == ids.slot_id(key.consultant_id, key.service_id, key.start)
        assert key.start == datetime.fromisoformat(s["start"])
        assert key.service_id == video.id
        assert s["status"] == "free"
        assert s["serviceType"][0]["coding"][0] == {
            "system": "urn:telehub:service",
            "code": str(video.id),
            "display": "Video visit",
        }


async def test_a_slot_read_by_its_id_is_the_one_searched(
    network: Network, fhir: FhirClient
) -> None:
    video = await network.service()
    consultant = await network.consultant([video])
    found = await fhir.every(
        "Slot", {"service-type": str(video.id), **TWO_WEEKS, "patient-state": "VT"}
    )
    assert found

    for slot in found:
        assert await fhir.read("Slot", slot["id"]) == slot
    expected = ids.slot_id(consultant.id, video.id, datetime(2027, 3, 8, 17, tzinfo=UTC))
    assert found[0]["id"] == expected == f"{consultant.id}-{video.id}-20270308T170000Z"


async def test_a_schedule_narrows_the_search_to_its_consultant(
    network: Network, fhir: FhirClient
) -> None:
    video = await network.service()
    first = await network.consultant([video])
    second = await network.consultant([video])

    found = await fhir.every(
        "Slot", {"schedule": f"Schedule/{second.id}-{video.id}", **TWO_WEEKS, "patient-state": "NY"}
    )

    assert len(found) == 6
    assert {ids.parse_slot_id(s["id"]).consultant_id for s in found} == {second.id}  # type: ignore[union-attr]
    both = await fhir.every(
        "Slot",
        {
            "schedule": f"{first.id}-{video.id},{second.id}-{video.id}",
            **TWO_WEEKS,
            "patient-state": "NY",
        },
    )
    assert len(both) == 12


async def test_a_booked_time_is_no_longer_a_slot(
    client: TestClient, network: Network, fhir: FhirClient, clinic_user: SpokeUser
) -> None:
    video = await network.service()
    consultant = await network.consultant([video])
    patient = await network.patient(clinic_user)
    slot_id = ids.slot_id(consultant.id, video.id, datetime(2027, 3, 8, 18, tzinfo=UTC))
    await fhir.read("Slot", slot_id)

    await booking(
        client,
        clinic_user,
        service_id=video.id,
        consultant_id=consultant.id,
        patient_id=patient.id,
        start="2027-03-08T18:00:00Z",
    )

    gone = await fhir.read("Slot", slot_id, status=404)
    assert gone["issue"][0]["code"] == "not-found"
    left = await fhir.every(
        "Slot", {"service-type": str(video.id), **TWO_WEEKS, "patient-state": "VT"}
    )
    assert slot_id not in {s["id"] for s in left}
    assert len(left) == 5


async def test_a_video_slot_search_needs_the_patients_state(
    network: Network, fhir: FhirClient
) -> None:
    video = await network.service()
    econsult = await network.service(kind="econsult", duration_minutes=30, turnaround_hours=8)
    await network.consultant([video, econsult], states=("NY",))

    refused = await fhir.search("Slot", {"service-type": str(video.id), **TWO_WEEKS}, status=422)
    assert issue_expressions(refused) == ["patient-state"]
    assert refused["issue"][0]["code"] == "invalid"
    elsewhere = await fhir.search(
        "Slot", {"service-type": str(video.id), **TWO_WEEKS, "patient-state": "VT"}
    )
    assert elsewhere["total"] == 0 and "entry" not in elsewhere
    # An e-consult is not seeing the patient: no state needed.
    econsults = await fhir.search("Slot", {"service-type": str(econsult.id), **TWO_WEEKS})
    assert econsults["total"] > 0


async def test_malformed_and_unknown_slot_ids_answer_404(
    network: Network, fhir: FhirClient
) -> None:
    video = await network.service()
    consultant = await network.consultant([video])
    for wrong in (
        "nope",
        f"{consultant.id}-{video.id}-20270308T170000",  # no Z
        f"{consultant.id}-{video.id}-20271308T170000Z",  # no such month
        f"{consultant.id}-{video.id}-20270308T173000Z",  # not a slot start
        f"{consultant.id + 100}-{video.id}-20270308T170000Z",
        f"{consultant.id}-{video.id}-20270222T170000Z",  # the Monday before: past
    ):
        outcome = await fhir.read("Slot", wrong, status=404)
        assert outcome["issue"][0]["code"] == "not-found", wrong


async def test_bad_slot_search_parameters_are_refused_by_name(
    network: Network, fhir: FhirClient
) -> None:
    video = await network.service()
    await network.consultant([video])
    good = {"service-type": str(video.id), "patient-state": "VT"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({**good, "practitioner": "7"}, "practitioner"),
        ({**good, "start:missing": "true"}, "start:missing"),
        ({**good, "start": "ge2027-03-08T10:00:00"}, "start"),  # no offset
        ({**good, "start": "gesoon"}, "start"),
        ({**good, "start": "sa2027-03-08"}, "start"),
        ({**good, "start": ["ge2027-03-10", "lt2027-03-09"]}, "start"),
        ({**good, "start": ["ge2027-03-01", "lt2027-07-01"]}, "start"),  # over 92 days
        ({**good, "status": "busy"}, "status"),
        ({**good, "patient-state": "ZZ"}, "patient-state"),
        ({**good, "service-type": "other-system|1"}, "service-type"),
        ({**good, "service-type": "video"}, "service-type"),
        ({"patient-state": "VT"}, "service-type"),
        ({**good, "schedule": "Practitioner/1"}, "schedule"),
        ({**good, "_count": "0"}, "_count"),
        ({**good, "_count": "many"}, "_count"),
        ({**good, "_page": "not-a-page"}, "_page"),
        ({**good, "service-type": ["1", "2"]}, "service-type"),
    ]
    for params, named in cases:
        outcome = await fhir.search("Slot", params, status=400)
        assert issue_expressions(outcome) == [named], (params, outcome)
