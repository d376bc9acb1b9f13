"""GET /api/v1/patients/{id}/disclosures: the patient's accounting of disclosures (42 CFR
2.24), newest first, the last 3 years by default, JSON or CSV, for the patient's clinic and
the hub only, and reading it is audited."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Network, SpokeUser, econsult, signed_note
from tests.http.problems import problem_of


class Accounted:
    """A patient with one note disclosed through the API, and the ids to name it."""

    spoke: SpokeUser
    patient_id: uuid.UUID
    note_id: uuid.UUID
    consent_id: uuid.UUID
    hub: dict[str, str]


@pytest.fixture
async def accounted(client: TestClient, network: Network, conn: asyncpg.Connection) -> Accounted:
    """A patient (TPO consent on file) whose e-consult answer the clinic read once via the API."""
    service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    consultant = await network.consultant([service])
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    asked = await econsult(client, spoke, patient_id=patient.id, service_id=service.id)
    hub = network.consultant_headers(consultant.id)
    note = await signed_note(client, hub, asked["id"])
    read = await client.get(f"/api/v1/notes/{note['id']}", headers=spoke.headers)
    assert read.status == 200 and (await read.json())["status"] == "signed"
    result = Accounted()
    result.spoke, result.patient_id, result.hub = spoke, patient.id, network.hub_admin_headers()
    result.note_id = uuid.UUID(note["id"])
    result.consent_id = await conn.fetchval(
        "SELECT consent_id FROM disclosures WHERE note_id = $1", result.note_id
    )
    return result


async def _disclosed(
    conn: asyncpg.Connection, a: Accounted, at: datetime, *, by: str, channel: str = "page"
) -> None:
    await conn.execute(
        """
        INSERT INTO disclosures (note_id, note_version, patient_id, spoke_id, recipient_spoke_id,
                                 channel, consent_id, disclosed_at, disclosed_by)
        VALUES ($1, 1, $2, $3, $3, $4, $5, $6, $7)
        """,
        a.note_id,
        a.patient_id,
        a.spoke.id,
        channel,
        a.consent_id,
        at,
        by,
    )


def _path(a: Accounted, query: str = "") -> str:
    return f"/api/v1/patients/{a.patient_id}/disclosures{query}"


async def _get(client: TestClient, path: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get(path, headers=headers)
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def test_the_clinic_reads_its_patients_disclosures_newest_first_with_names(
    client: TestClient, network: Network, accounted: Accounted, conn: asyncpg.Connection
) -> None:
    email, _ = await network.user("spoke_clinician", spoke_id=accounted.spoke.id)
    user_id = await conn.fetchval("SELECT id FROM users WHERE email = $1", email)
    await _disclosed(conn, accounted, datetime(2026, 6, 1, tzinfo=UTC), by=f"user:{user_id}")

    body = await _get(client, _path(accounted), accounted.spoke.headers)

    assert body["patient_id"] == str(accounted.patient_id) and body["clipped"] is False
    rows = body["disclosures"]
    assert [r["channel"] for r in rows] == ["api", "page"]
    newest, older = rows
    assert newest["note_id"] == str(accounted.note_id) and newest["note_version"] == 1
    assert newest["recipient"] == accounted.spoke.name
    assert newest["recipient_spoke_id"] == accounted.spoke.id
    assert newest["consent"] == {"id": str(accounted.consent_id), "kind": "tpo"}
    assert newest["disclosed_by"] == f"client:{accounted.spoke.client_id}"
    assert newest["disclosed_by_name"] is None
    assert older["disclosed_by"] == f"user:{user_id}"
    assert older["disclosed_by_name"] == "Spoke Clinician Person"
    assert older["disclosed_at"] == "2026-06-01T00:00:00Z"


async def test_the_last_3_years_by_default_and_an_older_since_is_clipped_and_says_so(
    client: TestClient, accounted: Accounted, conn: asyncpg.Connection
) -> None:
    # The clinic's today is 2027-03-01 (America/New_York): 3 years back is 2024-03-01.
    await _disclosed(conn, accounted, datetime(2024, 3, 1, 5, 0, tzinfo=UTC), by="user:1")
    await _disclosed(conn, accounted, datetime(2024, 3, 1, 4, 59, tzinfo=UTC), by="user:1")
    await _disclosed(conn, accounted, datetime(2026, 6, 1, 3, 59, tzinfo=UTC), by="user:1")
    headers = accounted.spoke.headers

    default = await _get(client, _path(accounted), headers)
    clipped = await _get(client, _path(accounted, "?since=2020-01-01"), headers)
    # The API read is stamped by the database's clock (after 2026-06-01, before the test's).
    recent = await _get(client, _path(accounted, "?since=2026-06-01"), headers)

    assert (default["since"], default["clipped"]) == ("2024-03-01", False)
    assert [r["disclosed_at"] for r in default["disclosures"]][1:] == [
        "2026-06-01T03:59:00Z",
        "2024-03-01T05:00:00Z",
    ]
    assert (clipped["since"], clipped["clipped"]) == ("2024-03-01", True)
    assert clipped["disclosures"] == default["disclosures"]
    assert (recent["since"], recent["clipped"]) == ("2026-06-01", False)
    assert [r["channel"] for r in recent["disclosures"]] == ["api"]


@pytest.mark.parametrize("since", ["2027-02-30", "yesterday", "01/03/2027"])
async def test_a_bad_since_is_refused_naming_it(
    client: TestClient, accounted: Accounted, since: str
) -> None:
    response = await client.get(
        _path(accounted, f"?since={since}"), headers=accounted.spoke.headers
    )

    problem = await problem_of(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["since"]


async def test_the_accounting_as_csv(
    client: TestClient, accounted: Accounted, conn: asyncpg.Connection
) -> None:
    await _disclosed(
        conn, accounted, datetime(2026, 6, 1, tzinfo=UTC), by="=HYPERLINK()", channel="print"
    )

    response = await client.get(
        _path(accounted), headers={**accounted.spoke.headers, "Accept": "text/csv"}
    )

    assert response.status == 200 and response.content_type == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0][:6] == [
        "disclosed_at",
        "note_id",
        "note_version",
        "recipient_spoke_id",
        "recipient",
        "channel",
    ]
    assert [(r[1], r[4], r[5], r[7]) for r in rows[1:]] == [
        (str(accounted.note_id), accounted.spoke.name, "api", "tpo"),
        (str(accounted.note_id), accounted.spoke.name, "print", "tpo"),
    ]
    assert rows[2][8] == "'=HYPERLINK()"  # a spreadsheet shows it, never runs it


async def test_the_hub_reads_it_and_another_clinic_gets_404(
    client: TestClient, network: Network, accounted: Accounted
) -> None:
    other = await network.spoke()

    hub = await _get(client, _path(accounted), accounted.hub)
    stranger = await client.get(_path(accounted), headers=other.headers)
    missing = await client.get(
        f"/api/v1/patients/{uuid.uuid4()}/disclosures", headers=accounted.spoke.headers
    )

    assert [r["channel"] for r in hub["disclosures"]] == ["api"]
    await problem_of(stranger, 404)
    await problem_of(missing, 404)


async def test_reading_the_accounting_is_audited_and_is_not_a_disclosure(
    client: TestClient, accounted: Accounted, conn: asyncpg.Connection
) -> None:
    before = await conn.fetchval("SELECT count(*) FROM disclosures")

    await _get(client, _path(accounted), accounted.spoke.headers)

    audited = await conn.fetch(
        "SELECT actor, action, record_id, spoke_id FROM audit_log "
        "WHERE record_type = 'disclosure_accounting'"
    )
    assert [dict(r) for r in audited] == [
        {
            "actor": f"client:{accounted.spoke.client_id}",
            "action": "read",
            "record_id": str(accounted.patient_id),
            "spoke_id": accounted.spoke.id,
        }
    ]
    assert await conn.fetchval("SELECT count(*) FROM disclosures") == before
