"""The billing report through the app: the month's counted minutes per patient (both of a
patient's episodes in one ledger), non-counting and other months' contacts left out, a clinic
sees its own and the hub any named clinic without names, CSV, bad months, and audit rows."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from care import registry
from care.store import Episode
from tests.factories import Network, SpokeUser
from tests.factories.care import TRAIL, care_manager, clinic_caller, contact, enrol
from tests.http.problems import problem_of
from tests.log_capture import log_lines_fixture, logged  # noqa: F401 (the fixture log_lines)

URL = "/api/v1/registry/billing"
NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)  # after every contact of the ledger


@dataclass
class Ledger:
    """Two clinics' episodes and contacts around January 2027."""

    a: SpokeUser
    b: SpokeUser
    a_slug: str
    p1: uuid.UUID  # clinic A: collaborative care since November and oud since January
    p1_episodes: list[uuid.UUID]
    p2: uuid.UUID  # clinic A: first month in January
    p3: uuid.UUID  # clinic B
    p3_episode: uuid.UUID
    mrn: dict[uuid.UUID, str] = field(default_factory=dict)


@pytest.fixture
async def ledger(network: Network) -> Ledger:
    """Clinic A's two patients and clinic B's one, with contacts in and around January 2027."""
    return await build_ledger(network)


async def build_ledger(network: Network) -> Ledger:
    """Clinic A's two patients and clinic B's one, with contacts in and around January 2027."""
    consultant = await network.consultant([])
    a, b = await network.spoke(), await network.spoke()
    cm_a, cm_b = await care_manager(network, a), await care_manager(network, b)
    p1 = await network.patient(a, family_name="Quimby")
    p2 = await network.patient(a, family_name='=HYPERLINK("http://x")')
    p3 = await network.patient(b, family_name="Otherclinic")

    async def episode(
        conn: asyncpg.Connection, spoke: SpokeUser, patient_id: uuid.UUID, program: str, on: date
    ) -> Episode:
        manager = cm_a if spoke is a else cm_b
        return await enrol(
            conn,
            spoke,
            patient_id,
            care_manager_id=manager.id,
            consultant_id=consultant.id,
            started_on=on,
            program=program,
            now=NOW,
        )

    async with network.pool.acquire() as conn:
        cc = await episode(conn, a, p1.id, "collaborative_care", date(2026, 11, 10))
        oud = await episode(conn, a, p1.id, "oud", date(2027, 1, 5))
        # p1: 20 + 15 + 41 counted minutes in January over two episodes.
        await contact(conn, cc, date(2027, 1, 1), minutes=20, now=NOW)
        await contact(conn, cc, date(2027, 1, 20), minutes=15, now=NOW)
        await contact(conn, oud, date(2027, 1, 31), minutes=41, now=NOW)
        await contact(conn, oud, date(2027, 1, 11), minutes=40, counts=False, now=NOW)
        await contact(conn, cc, date(2026, 12, 31), minutes=50, now=NOW)
        await contact(conn, cc, date(2027, 2, 1), minutes=50, now=NOW)
        # An episode closed since still has its January minutes counted.
        await registry.close(
            conn,
            clinic_caller(a),
            TRAIL,
            cc.id,
            ended_on=date(2027, 2, 15),
            end_reason="remission",
            now=NOW,
        )
        e2 = await episode(conn, a, p2.id, "collaborative_care", date(2027, 1, 3))
        await contact(conn, e2, date(2027, 1, 3), minutes=33, now=NOW)
        e3 = await episode(conn, b, p3.id, "collaborative_care", date(2026, 6, 1))
        await contact(conn, e3, date(2027, 1, 15), minutes=100, now=NOW)
        slug: str = await conn.fetchval("SELECT slug FROM spokes WHERE id = $1", a.id)
    return Ledger(
        a,
        b,
        slug,
        p1.id,
        sorted([cc.id, oud.id]),
        p2.id,
        p3.id,
        e3.id,
        {p1.id: p1.mrn, p2.id: p2.mrn},
    )


def _codes(body: dict[str, Any]) -> list[tuple[str, str, int, int, bool]]:
    return sorted(
        (r["patient_id"], r["code"], r["units"], r["minutes"], r["first_month"])
        for r in body["rows"]
    )


async def _report(client: TestClient, headers: dict[str, str], **query: Any) -> dict[str, Any]:
    response = await client.get(URL, params={"month": "2027-01", **query}, headers=headers)
    assert response.status == 200, await response.text()
    assert response.content_type == "application/json"
    body: dict[str, Any] = await response.json()
    return body


async def _audited(pool: asyncpg.Pool, record_type: str) -> list[tuple[str, str, int]]:
    """The read rows of the record type written by anyone but the test's factories."""
    rows = await pool.fetch(
        """
        SELECT actor, record_id, spoke_id FROM audit_log
        WHERE record_type = $1 AND action = 'read' AND actor <> $2
        """,
        record_type,
        TRAIL.actor,
    )
    return sorted((r["actor"], r["record_id"], r["spoke_id"]) for r in rows)


async def test_the_months_counted_minutes_per_patient_and_the_codes_they_support(
    client: TestClient, ledger: Ledger
) -> None:
    body = await _report(client, ledger.a.headers)
    assert body["spoke_id"] == ledger.a.id
    assert body["month"] == "2027-01"
    # p1: 76 minutes (the 40 that do not count, December's and February's left out) in a
    # later month: 99493 and one 99494; p2: 33 minutes in its first month: only G2214.
    assert _codes(body) == sorted(
        [
            (str(ledger.p1), "99493", 1, 76, False),
            (str(ledger.p1), "99494", 1, 76, False),
            (str(ledger.p2), "G2214", 1, 33, True),
        ]
    )
    p1_rows = [r for r in body["rows"] if r["patient_id"] == str(ledger.p1)]
    assert all(sorted(r["episode_ids"]) == [str(e) for e in ledger.p1_episodes] for r in p1_rows)
    assert all(r["patient"] is None for r in body["rows"])


async def test_a_clinic_never_sees_another_clinics_rows(client: TestClient, ledger: Ledger) -> None:
    body = await _report(client, ledger.b.headers)
    assert _codes(body) == [
        (str(ledger.p3), "99493", 1, 100, False),
        (str(ledger.p3), "99494", 1, 100, False),
    ]
    own = await _report(client, ledger.a.headers, spoke_id=ledger.a.id)
    assert str(ledger.p3) not in {r["patient_id"] for r in own["rows"]}

    other = await client.get(
        URL, params={"month": "2027-01", "spoke_id": ledger.b.id}, headers=ledger.a.headers
    )
    problem = await problem_of(other, 404)
    assert [e["field"] for e in problem["errors"]] == ["spoke_id"]
    assert str(ledger.p3) not in await other.text()


async def test_the_hub_reads_a_named_clinic_without_names(
    client: TestClient, ledger: Ledger, network: Network
) -> None:
    hub = network.hub_admin_headers()
    body = await _report(client, hub, spoke_id=ledger.a.id)
    assert {r["patient_id"] for r in body["rows"]} == {str(ledger.p1), str(ledger.p2)}
    assert all(r["patient"] is None for r in body["rows"])

    unnamed = await client.get(URL, params={"month": "2027-01"}, headers=hub)
    problem = await problem_of(unnamed, 422)
    assert [e["field"] for e in problem["errors"]] == ["spoke_id"]

    names = await client.get(
        URL, params={"month": "2027-01", "spoke_id": ledger.a.id, "names": "true"}, headers=hub
    )
    problem = await problem_of(names, 403)
    assert [e["field"] for e in problem["errors"]] == ["names"]
    assert "Quimby" not in await names.text()

    missing = await client.get(URL, params={"month": "2027-01", "spoke_id": 999999}, headers=hub)
    assert [e["field"] for e in (await problem_of(missing, 404))["errors"]] == ["spoke_id"]


async def test_names_only_for_the_clinic_that_asks(client: TestClient, ledger: Ledger) -> None:
    body = await _report(client, ledger.a.headers, names="true")
    named = {r["patient_id"]: r["patient"] for r in body["rows"]}
    assert named[str(ledger.p1)]["family_name"] == "Quimby"
    assert named[str(ledger.p1)]["mrn"] == ledger.mrn[ledger.p1]
    assert named[str(ledger.p2)]["mrn"] == ledger.mrn[ledger.p2]
    plain = await _report(client, ledger.a.headers)
    assert "Quimby" not in str(plain)


async def test_csv_has_a_header_row_a_named_attachment_and_safe_cells(
    client: TestClient, ledger: Ledger
) -> None:
    response = await client.get(
        URL,
        params={"month": "2027-01", "names": "true"},
        headers={**ledger.a.headers, "Accept": "text/csv"},
    )
    assert response.status == 200, await response.text()
    assert response.content_type == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="billing-{ledger.a_slug}-2027-01.csv"' in disposition
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows[0] == [
        "patient_id",
        "mrn",
        "given_name",
        "family_name",
        "episode_ids",
        "minutes",
        "first_month",
        "code",
        "units",
    ]
    found = sorted((r[0], r[7], r[8], r[5], r[6]) for r in rows[1:])
    assert found == sorted(
        [
            (str(ledger.p1), "99493", "1", "76", "false"),
            (str(ledger.p1), "99494", "1", "76", "false"),
            (str(ledger.p2), "G2214", "1", "33", "true"),
        ]
    )
    p2_row = next(r for r in rows[1:] if r[0] == str(ledger.p2))
    # A name a spreadsheet would run as a formula is written as text.
    assert p2_row[3] == '\'=HYPERLINK("http://x")'
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


@pytest.mark.parametrize("month", ["2027-13", "2027-1", "january", "2027-01-01", "0000-01", ""])
async def test_a_bad_month_is_refused_naming_it_and_nothing_is_read(
    client: TestClient, ledger: Ledger, pool: asyncpg.Pool, month: str
) -> None:
    response = await client.get(URL, params={"month": month}, headers=ledger.a.headers)
    problem = await problem_of(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["month"]
    assert await _audited(pool, "episode") == []


async def test_a_missing_month_is_refused_naming_it(client: TestClient, ledger: Ledger) -> None:
    response = await client.get(URL, headers=ledger.a.headers)
    problem = await problem_of(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["month"]


async def test_each_episode_read_and_each_patient_named_is_audited(
    client: TestClient, ledger: Ledger, pool: asyncpg.Pool
) -> None:
    await _report(client, ledger.a.headers, names="true")
    actor = f"client:{ledger.a.client_id}"
    p2_episode = await pool.fetchval("SELECT id FROM episodes WHERE patient_id = $1", ledger.p2)
    assert await _audited(pool, "episode") == sorted(
        (actor, str(e), ledger.a.id) for e in [*ledger.p1_episodes, p2_episode]
    )
    assert await _audited(pool, "patient") == sorted(
        (actor, str(p), ledger.a.id) for p in [ledger.p1, ledger.p2]
    )


async def test_a_month_without_counted_minutes_is_an_empty_report(
    client: TestClient, ledger: Ledger, pool: asyncpg.Pool
) -> None:
    body = await _report(client, ledger.a.headers, month="2027-03")
    assert body["rows"] == []
    assert await _audited(pool, "episode") == []


async def test_no_patient_name_or_mrn_is_logged(
    client: TestClient, ledger: Ledger, log_lines: io.StringIO
) -> None:
    await _report(client, ledger.a.headers, names="true")
    response = await client.get(
        URL,
        params={"month": "2027-01", "names": "true"},
        headers={**ledger.a.headers, "Accept": "text/csv"},
    )
    assert "Quimby" in await response.text()
    lines = logged(log_lines)
    assert any(line.get("route") == URL for line in lines)
    text = log_lines.getvalue()
    assert "Quimby" not in text
    assert "HYPERLINK" not in text
    assert all(mrn not in text for mrn in ledger.mrn.values())


async def cover_billing(api: Any, network: Network) -> None:
    """Drives the billing report once for the OpenAPI contract test
    (tests/http/test_response_schemas.py): a clinic its own with names, the hub a named clinic."""
    built = await build_ledger(network)
    own = {"month": "2027-01", "names": "true"}
    await api.call("GET", URL, built.a.headers, status=200, params=own)
    named = {"month": "2027-01", "spoke_id": str(built.a.id)}
    await api.call("GET", URL, network.hub_admin_headers(), status=200, params=named)
