"""The coordinator's network pages: consultants, spokes and their webhooks, services."""

from __future__ import annotations

import re

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.coordinator_support import (
    coordinator,
    post_form,
    tables,
)

# --- consultants, spokes, services --------------------------------------------------------------


async def test_adding_a_consultant_through_the_form_writes_the_consultant(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    video = await network.service(name="Video visit")
    await coordinator(client, network)
    response = await post_form(
        client,
        "/coordinator/consultants",
        [
            ("name", "Dr. Ada Ruiz"),
            ("credentials", "MD"),
            ("role", "psychiatric_consultant"),
            ("timezone", "America/Chicago"),
            ("licensed_states", "VT"),
            ("licensed_states", "NH"),
            ("service_ids", str(video.id)),
        ],
    )
    assert response.status == 303
    assert response.headers["Location"] == "/coordinator/consultants"
    row = await conn.fetchrow(
        "SELECT id, role, timezone, licensed_states FROM consultants WHERE name = 'Dr. Ada Ruiz'"
    )
    assert (row["role"], row["timezone"], row["licensed_states"]) == (
        "psychiatric_consultant",
        "America/Chicago",
        ["NH", "VT"],
    )
    services = await conn.fetch(
        "SELECT service_id FROM consultant_services WHERE consultant_id = $1", row["id"]
    )
    assert [s["service_id"] for s in services] == [video.id]
    page = await (await client.get("/coordinator/consultants")).text()
    assert "Added Dr. Ada Ruiz." in page
    listed = tables(page)["consultants"]
    assert listed[1] == [
        "Dr. Ada Ruiz, MD",
        "Psychiatric consultant",
        "America/Chicago",
        "NH, VT",
        "Video visit",
        "active",
    ]


async def test_a_bad_consultant_form_says_what_to_fix_and_keeps_what_was_typed(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await coordinator(client, network)
    response = await post_form(
        client,
        "/coordinator/consultants",
        [
            ("name", ""),
            ("credentials", "MD, FASAM"),
            ("role", "telehealth_counselor"),
            ("timezone", "Mars/Olympus"),
            ("licensed_states", "VT"),
            ("licensed_states", "NM"),
        ],
    )
    assert response.status == 422
    html = await response.text()
    assert 'id="f-name-error">is required<' in html
    assert re.search(r'id="f-timezone-error">must be an IANA time zone', html)
    assert 'value="Mars/Olympus"' in html and 'value="MD, FASAM"' in html
    assert re.search(r'value="telehealth_counselor"\s+selected', html)
    assert 'value="VT" checked' in html
    assert 'value="NM" checked' in html and 'value="NH" checked' not in html
    assert '<a href="#f-timezone">' in html  # the summary links to the field
    assert await conn.fetchval("SELECT count(*) FROM consultants") == 0


async def test_a_consultant_offered_a_service_their_role_may_not_deliver_is_refused(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    econsult = await network.service(
        kind="econsult",
        name="Psychiatry e-consult",
        turnaround_hours=48,
        roles=["psychiatric_consultant"],
    )
    await coordinator(client, network)
    response = await post_form(
        client,
        "/coordinator/consultants",
        [
            ("name", "Sam Lee"),
            ("role", "peer_recovery_specialist"),
            ("timezone", "America/New_York"),
            ("service_ids", str(econsult.id)),
        ],
    )
    assert response.status == 422
    html = await response.text()
    assert re.search(
        r'id="f-service_ids-error">a peer recovery specialist may not deliver Psychiatry', html
    )
    assert 'value="Sam Lee"' in html
    assert f'value="{econsult.id}" id="f-service_ids" checked' in html
    assert await conn.fetchval("SELECT count(*) FROM consultants") == 0


async def test_adding_a_spoke_writes_it_and_opens_its_page(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await coordinator(client, network)
    response = await post_form(
        client,
        "/coordinator/spokes",
        {
            "name": "Riverside Family Medicine",
            "slug": "riverside-fm",
            "state": "vt",
            "timezone": "America/New_York",
        },
    )
    assert response.status == 303
    row = await conn.fetchrow("SELECT id, name, state, timezone FROM spokes")
    assert tuple(row) == (row["id"], "Riverside Family Medicine", "VT", "America/New_York")
    assert response.headers["Location"] == f"/coordinator/spokes/{row['id']}"
    page = await (await client.get(response.headers["Location"])).text()
    assert "Added Riverside Family Medicine." in page
    listed = tables(await (await client.get("/coordinator/spokes")).text())["spokes"]
    assert listed[1] == [
        "Riverside Family Medicine",
        "riverside-fm",
        "VT",
        "America/New York",
        "none",
    ]


async def test_a_bad_spoke_form_says_what_to_fix_and_a_taken_slug_is_a_conflict(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await coordinator(client, network)
    bad = await post_form(
        client,
        "/coordinator/spokes",
        {"name": "Hilltop Clinic", "slug": "Hill Top!", "state": "ZZ", "timezone": "Nowhere"},
    )
    assert bad.status == 422
    html = await bad.text()
    assert re.search(r'id="f-slug-error">use 2 to 63 lowercase letters', html)
    assert re.search(r'id="f-state-error">must be a two-letter US state', html)
    assert re.search(r'id="f-timezone-error">must be an IANA time zone', html)
    assert 'value="Hill Top!"' in html and 'value="Hilltop Clinic"' in html

    good = {"name": "Hilltop", "slug": "hilltop", "state": "NH", "timezone": "America/New_York"}
    assert (await post_form(client, "/coordinator/spokes", good)).status == 303
    again = await post_form(client, "/coordinator/spokes", {**good, "name": "Hilltop Two"})
    assert again.status == 409
    html = await again.text()
    assert re.search(r'id="f-slug-error">another spoke uses &#39;hilltop&#39; already', html)
    assert 'value="Hilltop Two"' in html
    assert await conn.fetchval("SELECT count(*) FROM spokes") == 1


async def test_a_spokes_webhook_secret_is_shown_once_when_issued_and_when_rotated(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    await coordinator(client, network)
    path = f"/coordinator/spokes/{spoke.id}"
    response = await post_form(
        client, path, {"url": "https://ehr.example/telehub", "full_payload": "on"}
    )
    assert response.status == 200
    html = await response.text()
    secret = re.search(r'id="webhook-secret">(whsec_[^<]+)<', html)
    assert secret, html
    row = await conn.fetchrow(
        "SELECT webhook_url, webhook_secret, webhook_full_payload FROM spokes WHERE id = $1",
        spoke.id,
    )
    assert tuple(row) == ("https://ehr.example/telehub", secret.group(1), True)
    later = await (await client.get(path)).text()
    assert secret.group(1) not in later and 'value="https://ehr.example/telehub"' in later

    kept = await post_form(client, path, {"url": "https://ehr.example/v2"})
    assert kept.status == 303  # no new secret: nothing to show, back to the page
    assert await conn.fetchval("SELECT webhook_secret FROM spokes") == secret.group(1)
    rotated = await post_form(
        client, path, {"url": "https://ehr.example/v2", "rotate_secret": "on"}
    )
    fresh = re.search(r'id="webhook-secret">(whsec_[^<]+)<', await rotated.text())
    assert fresh and fresh.group(1) != secret.group(1)
    assert await conn.fetchval("SELECT webhook_secret FROM spokes") == fresh.group(1)


async def test_a_bad_webhook_url_says_what_to_fix_and_keeps_it(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    await coordinator(client, network)
    response = await post_form(
        client, f"/coordinator/spokes/{spoke.id}", {"url": "ftp://ehr.example/in"}
    )
    assert response.status == 422
    html = await response.text()
    assert re.search(r'id="f-url-error">must be an https URL', html)
    assert 'value="ftp://ehr.example/in"' in html
    assert await conn.fetchval("SELECT webhook_url FROM spokes") is None


async def test_an_unknown_spoke_page_is_not_found(client: TestClient, network: Network) -> None:
    await coordinator(client, network)
    assert (await client.get("/coordinator/spokes/999")).status == 404
    assert (await client.get("/coordinator/spokes/x")).status == 404


async def test_adding_a_service_through_the_form_writes_it_with_its_roles(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await coordinator(client, network)
    response = await post_form(
        client,
        "/coordinator/services",
        [
            ("kind", "econsult"),
            ("name", "Addiction psychiatry e-consult"),
            ("duration_minutes", "30"),
            ("buffer_before_minutes", ""),
            ("buffer_after_minutes", "5"),
            ("min_notice_minutes", ""),
            ("horizon_days", "30"),
            ("turnaround_hours", "48"),
            ("roles", "psychiatric_consultant"),
            ("roles", "addiction_medicine_specialist"),
        ],
    )
    assert response.status == 303
    row = await conn.fetchrow(
        "SELECT kind, duration_minutes, buffer_before_minutes, buffer_after_minutes,"
        " horizon_days, turnaround_hours, roles FROM services"
    )
    assert tuple(row) == (
        "econsult",
        30,
        0,
        5,
        30,
        48,
        ["psychiatric_consultant", "addiction_medicine_specialist"],
    )
    page = await (await client.get("/coordinator/services")).text()
    assert "Added Addiction psychiatry e-consult." in page
    assert tables(page)["services"][1][0] == "Addiction psychiatry e-consult"


async def test_a_bad_service_form_says_what_to_fix_and_keeps_what_was_typed(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await coordinator(client, network)
    response = await post_form(
        client,
        "/coordinator/services",
        [
            ("kind", "video_session"),
            ("name", "Counseling"),
            ("duration_minutes", "3"),
            ("horizon_days", "30"),
        ],
    )
    assert response.status == 422
    html = await response.text()
    assert re.search(r'id="f-duration_minutes-error">must be 5 or more<', html)
    assert 'id="f-roles-error">choose at least one<' in html
    assert 'value="Counseling"' in html and 'value="30"' in html
    assert re.search(r'value="video_session"\s+selected', html)

    no_sla = await post_form(
        client,
        "/coordinator/services",
        [
            ("kind", "econsult"),
            ("name", "Quick question"),
            ("duration_minutes", "15"),
            ("roles", "telehealth_counselor"),
        ],
    )
    assert no_sla.status == 422
    html = await no_sla.text()
    assert 'id="f-turnaround_hours-error">is required for e-consults<' in html
    assert 'value="telehealth_counselor" checked' in html
    assert await conn.fetchval("SELECT count(*) FROM services") == 0


async def test_a_service_name_in_use_is_a_conflict_on_the_name(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await network.service(name="Counseling")
    await coordinator(client, network)
    response = await post_form(
        client,
        "/coordinator/services",
        [
            ("kind", "video_session"),
            ("name", "Counseling"),
            ("duration_minutes", "50"),
            ("roles", "telehealth_counselor"),
        ],
    )
    assert response.status == 409
    assert re.search(
        r'id="f-name-error">a service named &#39;Counseling&#39; exists already',
        await response.text(),
    )
    assert await conn.fetchval("SELECT count(*) FROM services") == 1
