"""POST /api/v1/groups/{id}/occurrences/{position}/attendance: the hub records who came, all
or none; a bad mark is a 422 naming it, and nothing changes."""

from __future__ import annotations

import uuid

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.group_hub.support import STARTED, group, seat_rows


def _url(group_id: uuid.UUID, position: int) -> str:
    return f"/api/v1/groups/{group_id}/occurrences/{position}/attendance"


async def test_the_counselor_records_attendance_by_enrolment_or_seat_and_reads_the_roster(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    g = await group(network, first_start=STARTED)
    hub = network.consultant_headers(g.counselor.id)
    marks = [
        {"enrolment_id": str(g.enrolments[0]), "attendance": "attended"},
        {"seat": 2, "attendance": "no_show"},
        {"seat": 3, "attendance": "excused"},
    ]

    response = await client.post(_url(g.id, 1), json={"attendance": marks}, headers=hub)

    assert response.status == 200, await response.text()
    body = await response.json()
    assert [s["attendance"] for s in body["seats"]] == [
        "attended",
        "no_show",
        "excused",
        "expected",
    ]
    stored = await seat_rows(conn, g.occurrences[0])
    assert stored[g.enrolments[1]]["attendance"] == "no_show"
    assert stored[g.enrolments[3]]["recorded_by"] is None  # not marked: left as it was
    read = await client.get(_url(g.id, 1), headers=hub)
    assert (await read.json())["seats"] == body["seats"]
    audited = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE record_type = 'group_seat' AND action = 'update'"
    )
    assert audited == 3


async def _refused(
    client: TestClient, network: Network, conn: asyncpg.Connection, position: int, marks: object
) -> tuple[int, dict[str, object], bool]:
    g = await group(network, first_start=STARTED)
    hub = network.consultant_headers(g.counselor.id)
    response = await client.post(_url(g.id, position), json={"attendance": marks}, headers=hub)
    body = await response.json()
    stored = [s for o in g.occurrences for s in (await seat_rows(conn, o)).values()]
    unchanged = all(s["attendance"] == "expected" for s in stored)
    assert response.content_type == "application/problem+json"
    return response.status, body, unchanged


def _fields(body: dict[str, object]) -> list[object]:
    errors = body["errors"]
    assert isinstance(errors, list)
    return [e["field"] for e in errors]


async def test_a_mark_for_no_seat_here_is_a_422_naming_it_and_nothing_is_recorded(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    status, body, unchanged = await _refused(
        client,
        network,
        conn,
        1,
        [
            {"seat": 1, "attendance": "attended"},
            {"enrolment_id": str(uuid.uuid4()), "attendance": "attended"},
            {"seat": 9, "attendance": "no_show"},
        ],
    )
    assert status == 422 and unchanged
    assert _fields(body) == ["attendance.1.enrolment_id", "attendance.2.seat"]


async def test_a_patient_marked_twice_is_a_422(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    status, body, unchanged = await _refused(
        client,
        network,
        conn,
        1,
        [{"seat": 1, "attendance": "attended"}, {"seat": 1, "attendance": "no_show"}],
    )
    assert status == 422 and unchanged and _fields(body) == ["attendance.1.seat"]


async def test_attended_before_the_session_starts_is_a_422_but_excused_ahead_is_fine(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    status, body, unchanged = await _refused(
        client, network, conn, 2, [{"seat": 1, "attendance": "attended"}]
    )
    assert status == 422 and unchanged and _fields(body) == ["attendance.0.attendance"]

    g = await group(network, first_start=STARTED)
    hub = network.consultant_headers(g.counselor.id)
    ahead = await client.post(
        _url(g.id, 2), json={"attendance": [{"seat": 1, "attendance": "excused"}]}, headers=hub
    )
    assert ahead.status == 200


async def test_an_unknown_word_or_both_names_or_neither_or_an_empty_list_is_a_422(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    for marks, field in (
        ([{"seat": 1, "attendance": "late"}], "attendance.0.attendance"),
        ([{"attendance": "attended"}], "attendance.0.enrolment_id"),
        (
            [{"seat": 1, "enrolment_id": str(uuid.uuid4()), "attendance": "attended"}],
            "attendance.0.enrolment_id",
        ),
        ([], "attendance"),
    ):
        status, body, unchanged = await _refused(client, network, conn, 1, marks)
        assert status == 422 and unchanged, marks
        assert field in _fields(body), (marks, body)


async def test_clinics_and_other_counselors_cannot_read_or_record_a_roster(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    g = await group(network, first_start=STARTED)
    marks = {"attendance": [{"seat": 1, "attendance": "attended"}]}
    clinic = g.clinics[0].headers
    assert (await client.get(_url(g.id, 1), headers=clinic)).status == 403
    assert (await client.post(_url(g.id, 1), json=marks, headers=clinic)).status == 403
    other = await network.consultant([g.service], role="telehealth_counselor")
    stranger = network.consultant_headers(other.id)
    assert (await client.get(_url(g.id, 1), headers=stranger)).status == 404
    assert (await client.post(_url(g.id, 1), json=marks, headers=stranger)).status == 404
    assert (await client.get(_url(g.id, 9), headers=stranger)).status == 404
    assert all(
        s["attendance"] == "expected" for s in (await seat_rows(conn, g.occurrences[0])).values()
    )


async def test_a_cancelled_occurrence_has_no_attendance_to_record(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    g = await group(network, first_start=STARTED)
    await conn.execute(
        "UPDATE group_occurrences SET status = 'cancelled', cancelled_at = now() WHERE id = $1",
        g.occurrences[0],
    )
    response = await client.post(
        _url(g.id, 1),
        json={"attendance": [{"seat": 1, "attendance": "attended"}]},
        headers=network.consultant_headers(g.counselor.id),
    )
    assert response.status == 409
    assert response.content_type == "application/problem+json"
    stored = await seat_rows(conn, g.occurrences[0])
    assert all(s["attendance"] == "expected" for s in stored.values())


async def test_a_retried_post_with_its_idempotency_key_is_answered_as_before(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    g = await group(network, first_start=STARTED)
    headers = {**network.consultant_headers(g.counselor.id), "Idempotency-Key": "att-1"}
    marks = {"attendance": [{"seat": 1, "attendance": "attended"}]}
    first = await client.post(_url(g.id, 1), json=marks, headers=headers)
    again = await client.post(_url(g.id, 1), json=marks, headers=headers)
    assert first.status == again.status == 200
    assert await first.json() == await again.json()
    other = {"attendance": [{"seat": 1, "attendance": "no_show"}]}
    reused = await client.post(_url(g.id, 1), json=other, headers=headers)
    assert reused.status == 422
    assert (await seat_rows(conn, g.occurrences[0]))[g.enrolments[0]]["attendance"] == "attended"
