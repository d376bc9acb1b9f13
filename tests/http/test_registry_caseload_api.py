"""GET /api/v1/registry: the caseload as JSON, its filters, who sees which clinic's rows,
one audit row per episode, and no patient name anywhere in it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Clock, Network, care_clinic, phq9
from tests.factories.care import enrolled, fields_named


async def _caseload(client: TestClient, headers: dict[str, str], **query: Any) -> Any:
    response = await client.get("/api/v1/registry", params=query, headers=headers)
    assert response.status == 200, await response.text()
    return (await response.json())["rows"]


async def _measure(client: TestClient, headers: dict[str, str], eid: str, **body: Any) -> None:
    response = await client.post(f"/api/v1/episodes/{eid}/measures", json=body, headers=headers)
    assert response.status == 201, await response.text()


async def test_a_row_carries_scores_change_severity_and_flags_and_no_name(
    client: TestClient, network: Network
) -> None:
    clinic, episode = await enrolled(client, network, started_on="2026-12-07")  # 12 weeks
    h = clinic.spoke.headers
    eid = episode["id"]
    await _measure(client, h, eid, kind="phq9", measured_on="2026-12-07", items=phq9(20))
    await _measure(client, h, eid, kind="phq9", measured_on="2027-02-22", items=phq9(12))
    await _measure(client, h, eid, kind="gad7", measured_on="2026-12-07", items=[2] * 7)
    await client.post(
        f"/api/v1/episodes/{eid}/contacts",
        json={
            "contact_on": "2027-02-26",
            "minutes": 15,
            "kind": "phone",
            "who": "patient",
            "counts": True,
        },
        headers=h,
    )

    response = await client.get("/api/v1/registry", headers=h)
    [row] = (await response.json())["rows"]

    assert row["episode_id"] == eid
    assert row["patient_id"] == episode["patient_id"]
    assert row["weeks_in_treatment"] == 12
    assert row["last_contact_on"] == "2027-02-26"
    assert row["phq9"] == {
        "first": 20,
        "first_on": "2026-12-07",
        "last": 12,
        "last_on": "2027-02-22",
        "change_percent": -40.0,
        "last_severity": "moderate",
    }
    assert row["gad7"]["first"] == row["gad7"]["last"] == 14
    assert row["gad7"]["change_percent"] == 0.0
    assert row["gad7"]["last_severity"] == "moderate"
    assert row["moud"] is None
    assert row["last_review_at"] is None
    assert row["flags"] == ["not_improving", "never_reviewed"]
    text = await response.text()
    assert "Zzyzx" not in text and "Given" not in text and "MRN-" not in text


async def test_the_caseload_is_most_urgent_first(client: TestClient, network: Network) -> None:
    clinic, longest = await enrolled(client, network, started_on="2027-01-04")
    _, shorter = await enrolled(client, network, clinic, started_on="2027-02-08")
    _, new = await enrolled(client, network, clinic, started_on="2027-02-22")
    _, unsafe = await enrolled(client, network, clinic, started_on="2027-02-01")
    h = clinic.spoke.headers
    await _measure(
        client, h, unsafe["id"], kind="phq9", measured_on="2027-03-01", items=phq9(9, item9=1)
    )

    rows = await _caseload(client, h)

    # 8 weeks without contact outranks new; new outranks never reviewed; then by weeks.
    expected = [unsafe["id"], longest["id"], new["id"], shorter["id"]]
    assert [r["episode_id"] for r in rows] == expected
    assert [r["flags"][0] for r in rows] == ["safety", "no_contact", "new", "never_reviewed"]


async def test_filters_by_program_flag_and_consultant(client: TestClient, network: Network) -> None:
    clinic, cc = await enrolled(client, network, started_on="2027-02-22")
    addiction = await network.consultant([], role="addiction_medicine_specialist")
    _, oud = await enrolled(
        client, network, clinic, program="oud", consultant_id=addiction.id, started_on="2027-01-04"
    )
    h = clinic.spoke.headers

    assert [r["episode_id"] for r in await _caseload(client, h, program="oud")] == [oud["id"]]
    assert [r["episode_id"] for r in await _caseload(client, h, flag="new")] == [cc["id"]]
    assert [r["episode_id"] for r in await _caseload(client, h, consultant_id=addiction.id)] == [
        oud["id"]
    ]
    assert await _caseload(client, h, flag="safety") == []


async def test_a_bad_filter_is_a_422_naming_it(client: TestClient, network: Network) -> None:
    clinic = await care_clinic(network)
    for query, field in [({"flag": "sad"}, "flag"), ({"program": "x"}, "program")]:
        response = await client.get("/api/v1/registry", params=query, headers=clinic.spoke.headers)
        assert response.status == 422
        assert fields_named(await response.json()) == [field]


async def test_a_clinic_sees_its_own_rows_and_another_clinics_id_gives_an_empty_list(
    client: TestClient, network: Network
) -> None:
    ours, mine = await enrolled(client, network)
    theirs = await care_clinic(network, consultant=ours.consultant)
    _, other = await enrolled(client, network, theirs)

    own = await _caseload(client, ours.spoke.headers)
    asking = await _caseload(client, ours.spoke.headers, spoke_id=theirs.spoke.id)
    hub = await _caseload(client, network.hub_admin_headers())
    hub_one = await _caseload(client, network.hub_admin_headers(), spoke_id=theirs.spoke.id)
    consultant = await _caseload(client, network.consultant_headers(ours.consultant.id))

    assert [r["episode_id"] for r in own] == [mine["id"]]
    assert asking == []
    assert {r["episode_id"] for r in hub} == {mine["id"], other["id"]}
    assert [r["episode_id"] for r in hub_one] == [other["id"]]
    assert {r["episode_id"] for r in consultant} == {mine["id"], other["id"]}


async def test_every_row_returned_is_audited_and_nothing_else(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    ours, mine = await enrolled(client, network)
    theirs = await care_clinic(network, consultant=ours.consultant)
    _, other = await enrolled(client, network, theirs)
    actor = "client:" + ours.spoke.client_id

    await _caseload(client, ours.spoke.headers)
    await _caseload(client, ours.spoke.headers, spoke_id=theirs.spoke.id)

    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT record_id, spoke_id FROM audit_log"
            " WHERE actor = $1 AND action = 'read' AND record_type = 'episode'",
            actor,
        )
    assert [(r["record_id"], r["spoke_id"]) for r in rows] == [(mine["id"], ours.spoke.id)]
    assert other["id"] not in {r["record_id"] for r in rows}


async def test_without_registry_read_the_caseload_is_403(
    client: TestClient, network: Network
) -> None:
    from telehub.auth import Caller, issue_access_token

    caller = Caller("spoke", "narrow", frozenset({"patients:read"}), spoke_id=1)
    token = issue_access_token(network.settings, caller)
    response = await client.get("/api/v1/registry", headers={"Authorization": f"Bearer {token}"})
    assert response.status == 403


async def test_each_episode_is_reckoned_on_its_own_clinics_date(
    client: TestClient, network: Network, clock: Clock
) -> None:
    # 03:00 UTC on 1 March is still 28 February, 22:00, in New York: 13 days in, so new.
    clock.now = datetime(2027, 3, 1, 3, 0, tzinfo=UTC)
    clinic, episode = await enrolled(client, network, started_on="2027-02-15")

    [seen_by_hub] = await _caseload(client, network.hub_admin_headers())
    [seen_by_clinic] = await _caseload(client, clinic.spoke.headers)

    assert seen_by_hub["episode_id"] == episode["id"]
    assert "new" in seen_by_hub["flags"]
    assert seen_by_hub["flags"] == seen_by_clinic["flags"]
    assert seen_by_hub["weeks_in_treatment"] == 1
