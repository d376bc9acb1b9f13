"""Availability is local time: 09:00 in Los Angeles stays 09:00 across the DST change."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.factories import Network


async def _slots(
    client: TestClient, headers: dict[str, str], service_id: int, start: str, end: str
) -> list[dict[str, object]]:
    response = await client.get(
        "/api/v1/slots",
        params={"service_id": service_id, "start": start, "end": end, "patient_state": "VT"},
        headers=headers,
    )
    assert response.status == 200, await response.text()
    slots: list[dict[str, object]] = (await response.json())["slots"]
    return slots


async def test_nine_am_los_angeles_is_offered_before_and_after_14_march_2027(
    client: TestClient, network: Network
) -> None:
    svc = await network.service(duration_minutes=60)
    await network.consultant([svc], timezone="America/Los_Angeles")  # Mondays 09:00-12:00
    spoke = await network.spoke(timezone="America/New_York")

    before = await _slots(
        client, spoke.headers, svc.id, "2027-03-08T00:00:00-08:00", "2027-03-09T00:00:00-08:00"
    )
    after = await _slots(
        client, spoke.headers, svc.id, "2027-03-15T00:00:00-07:00", "2027-03-16T00:00:00-07:00"
    )

    # PST is UTC-8 before the change, PDT is UTC-7 after it: the same 09:00 wall clock.
    assert [s["start"] for s in before] == [
        "2027-03-08T17:00:00Z",
        "2027-03-08T18:00:00Z",
        "2027-03-08T19:00:00Z",
    ]
    assert [s["start"] for s in after] == [
        "2027-03-15T16:00:00Z",
        "2027-03-15T17:00:00Z",
        "2027-03-15T18:00:00Z",
    ]


async def test_a_new_york_clinic_gets_the_same_instants_in_utc(
    client: TestClient, network: Network
) -> None:
    svc = await network.service(duration_minutes=60)
    await network.consultant([svc], timezone="America/Los_Angeles")
    spoke = await network.spoke(timezone="America/New_York")

    asked_in_la = await _slots(
        client, spoke.headers, svc.id, "2027-03-08T00:00:00-08:00", "2027-03-22T00:00:00-07:00"
    )
    # The same fortnight, written the way a New York clinic would (EST, then EDT).
    asked_in_ny = await _slots(
        client, spoke.headers, svc.id, "2027-03-08T03:00:00-05:00", "2027-03-22T03:00:00-04:00"
    )

    assert asked_in_ny == asked_in_la
    assert len(asked_in_ny) == 6
    assert all(str(s["start"]).endswith("Z") and str(s["end"]).endswith("Z") for s in asked_in_ny)
    # 09:00 in Los Angeles is 12:00 in New York on both sides of the change.
    assert [s["start"] for s in asked_in_ny][::3] == [
        "2027-03-08T17:00:00Z",
        "2027-03-15T16:00:00Z",
    ]


async def test_an_offered_slot_after_the_change_can_be_booked(
    client: TestClient, network: Network
) -> None:
    svc = await network.service(duration_minutes=60)
    consultant = await network.consultant([svc], timezone="America/Los_Angeles")
    spoke = await network.spoke(timezone="America/New_York")
    patient = await network.patient(spoke)

    response = await client.post(
        "/api/v1/bookings",
        json={
            "service_id": svc.id,
            "consultant_id": consultant.id,
            "patient_id": str(patient.id),
            "start": "2027-03-15T12:00:00-04:00",  # 09:00 PDT, written in New York time
        },
        headers={**spoke.headers, "Idempotency-Key": "dst-1"},
    )

    assert response.status == 201
    assert (await response.json())["start"] == "2027-03-15T16:00:00Z"
