"""Drives every operation of groups themselves once (make, read, find, cancel), for the OpenAPI
contract test (tests/http/test_response_schemas.py), which checks each answer against the
document."""

from __future__ import annotations

from typing import Any

from tests.factories import Network
from tests.factories.groups import enrol


async def cover_groups(api: Any, network: Network) -> None:
    """The hub makes a group; a clinic with a patient in it reads and finds it; it is cancelled."""
    service = await network.service(kind="group_session", name="Contract group")
    counselor = await network.consultant(
        [service], timezone="America/New_York", role="telehealth_counselor"
    )
    hub = network.hub_admin_headers()
    made = await api.call(
        "POST",
        "/api/v1/groups",
        {**hub, "Idempotency-Key": "contract-group"},
        status=201,
        json={
            "service_id": service.id,
            "consultant_id": counselor.id,
            "title": "MOUD support group",
            "capacity": 4,
            "first_start": "2027-03-09T18:00:00-05:00",
            "repeat": "weekly",
            "until": "2027-03-23",
        },
    )
    spoke = await network.spoke()
    await enrol(network, spoke, made["id"], (await network.patient(spoke)).id)
    ids = {"id": made["id"]}
    await api.call("GET", "/api/v1/groups/{id}", spoke.headers, status=200, ids=ids)
    await api.call(
        "GET",
        "/api/v1/groups",
        spoke.headers,
        status=200,
        params={
            "service_id": service.id,
            "start": "2027-03-01T00:00:00Z",
            "end": "2027-04-01T00:00:00Z",
            "patient_state": "VT",
        },
    )
    await api.call(
        "POST",
        "/api/v1/groups/{id}/cancel",
        hub,
        status=200,
        ids=ids,
        json={"from": 3, "reason": "Holiday"},
    )
