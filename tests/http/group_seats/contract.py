"""Drives every seats and waitlist operation of a group once, for the OpenAPI contract test
(tests/http/test_response_schemas.py), which checks each answer against the document."""

from __future__ import annotations

from typing import Any

from tests.factories import Network
from tests.factories.groups import group


async def cover_group_seats(api: Any, network: Network) -> None:
    """Enrol, read, excuse, fill, wait, read the place, leave, wait again, withdraw."""
    made = await group(network, capacity=2, count=2)
    spoke = await network.spoke()
    clinic = spoke.headers
    first, second, third = [await network.patient(spoke) for _ in range(3)]
    ids = {"id": str(made.id)}
    seats = "/api/v1/groups/{id}/seats"

    enrolled = await api.call(
        "POST",
        seats,
        {**clinic, "Idempotency-Key": "contract-seat-1"},
        status=201,
        ids=ids,
        json={"patient_id": str(first.id)},
    )
    one = {**ids, "enrolment_id": enrolled["id"]}
    await api.call("GET", seats + "/{enrolment_id}", clinic, status=200, ids=one)
    await api.call(
        "POST", seats + "/{enrolment_id}/excuse", clinic, status=200, ids=one, json={"position": 2}
    )
    await api.call(
        "POST",
        seats,
        {**clinic, "Idempotency-Key": "contract-seat-2"},
        status=201,
        ids=ids,
        json={"patient_id": str(second.id)},
    )
    wait = "/api/v1/groups/{id}/waitlist"
    place = await api.call(
        "POST", wait, clinic, status=201, ids=ids, json={"patient_id": str(third.id)}
    )
    at = {**ids, "waitlist_id": place["id"]}
    await api.call("GET", wait + "/{waitlist_id}", clinic, status=200, ids=at)
    await api.call("POST", wait + "/{waitlist_id}/leave", clinic, status=200, ids=at)
    await api.call("POST", wait, clinic, status=201, ids=ids, json={"patient_id": str(third.id)})
    await api.call(
        "POST", seats + "/{enrolment_id}/withdraw", clinic, status=200, ids=one, json={"from": 1}
    )
