"""The program dashboard's collaborative care outcomes: per clinic and in total, each share with
how many of how many episodes, and each definition said on the page."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Clock, Network
from tests.factories.care import care_clinic, contact, enrol, measure, phq9
from tests.http.coordinator_support import coordinator, tables


async def test_the_dashboard_shows_each_clinics_outcomes_with_their_denominators(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    now, today = clock.now, clock.now.date()  # Monday 1 March 2027
    first = await care_clinic(network)
    second = await care_clinic(network, consultant=first.consultant)
    began = today - timedelta(weeks=12)
    episodes = []
    for clinic, last in ((first, 4), (first, 10), (first, 15), (second, 12)):
        patient = await network.patient(clinic.spoke)
        episode = await enrol(
            conn,
            clinic.spoke,
            patient.id,
            care_manager_id=clinic.care_manager.id,
            consultant_id=clinic.consultant.id,
            started_on=began,
            now=now,
        )
        await measure(conn, episode, "phq9", began, now=now, items=phq9(20))
        await measure(conn, episode, "phq9", began + timedelta(weeks=11), now=now, items=phq9(last))
        episodes.append(episode)
    await contact(conn, episodes[0], today - timedelta(days=3), now=now)
    # An OUD episode begun 100 days ago, taking its medication: retained at 90 days.
    patient = await network.patient(second.spoke)
    oud = await enrol(
        conn,
        second.spoke,
        patient.id,
        care_manager_id=second.care_manager.id,
        consultant_id=second.consultant.id,
        started_on=today - timedelta(days=100),
        now=now,
        program="oud",
    )
    await measure(
        conn,
        oud,
        "moud",
        today - timedelta(days=20),
        now=now,
        adherence="missed_doses",
        medication="buprenorphine",
        daily_dose_mg=16,
    )

    await coordinator(client, network)
    response = await client.get("/coordinator")
    assert response.status == 200
    html = await response.text()
    rows = {row[0]: row[1:] for row in tables(html)["table-registry"][1:]}
    assert rows[first.spoke.name] == [
        "67% (2 of 3)",  # 20 to 4 and 20 to 10 are responses; 20 to 15 is not
        "33% (1 of 3)",  # only 4 is below 5
        "33% (1 of 3)",
        "0% (0 of 3)",
        "— no data (0 of 0)",
        "— no data (0 of 0)",
    ]
    assert rows[second.spoke.name][:2] == ["0% (0 of 1)", "0% (0 of 1)"]
    assert rows[second.spoke.name][4:] == ["100% (1 of 1)", "— no data (0 of 0)"]
    assert rows["All spokes"] == [
        "50% (2 of 4)",
        "25% (1 of 4)",
        "20% (1 of 5)",
        "0% (0 of 5)",
        "100% (1 of 1)",
        "— no data (0 of 0)",
    ]
    assert "PHQ-9 at least 50% below the episode's first" in html
    assert "weeks 10 to 14 of treatment" in html
    assert "the latest MOUD record on or before it not" in html
    assert 'href="/hub/registry"' in html


async def test_a_range_without_the_outcome_phq9s_counts_none_of_them(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    now, today = clock.now, clock.now.date()
    clinic = await care_clinic(network)
    began = today - timedelta(weeks=12)
    patient = await network.patient(clinic.spoke)
    episode = await enrol(
        conn,
        clinic.spoke,
        patient.id,
        care_manager_id=clinic.care_manager.id,
        consultant_id=clinic.consultant.id,
        started_on=began,
        now=now,
    )
    await measure(conn, episode, "phq9", began, now=now, items=phq9(20))
    await measure(conn, episode, "phq9", began + timedelta(weeks=11), now=now, items=phq9(2))
    await coordinator(client, network)
    html = await (await client.get("/coordinator?since=2026-12-01&until=2027-01-31")).text()
    rows = {row[0]: row[1:] for row in tables(html)["table-registry"][1:]}
    assert rows[clinic.spoke.name][:2] == ["— no data (0 of 0)", "— no data (0 of 0)"]
    assert rows[clinic.spoke.name][3] == "0% (0 of 1)"  # open today, never reviewed
