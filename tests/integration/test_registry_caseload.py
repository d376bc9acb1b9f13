"""The caseload on a real database: its facts, flags and order, who sees which clinic's rows,
the trends and history, and one audit row per episode read."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from care import registry
from care.registry import CaseloadRow
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.errors import NotFound
from tests.factories import CareClinic, Network, care_clinic, clinic_caller, gad7, hub_caller, phq9
from tests.factories.care import contact, enrol, measure

NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)  # 10:00 in New York
TODAY = date(2027, 3, 1)
TRAIL = Trail("client:test-reader", request_id="req-1")


async def _episode(
    conn: asyncpg.Connection,
    network: Network,
    clinic: CareClinic,
    *,
    weeks_ago: int,
    program: str = "collaborative_care",
) -> registry.Episode:
    patient = await network.patient(clinic.spoke)
    return await enrol(
        conn,
        clinic.spoke,
        patient.id,
        care_manager_id=clinic.care_manager.id,
        consultant_id=clinic.consultant.id,
        started_on=TODAY - timedelta(weeks=weeks_ago),
        now=NOW,
        program=program,
    )


async def _audited(conn: asyncpg.Connection, record_type: str, actor: str) -> list[str]:
    rows = await conn.fetch(
        """
        SELECT record_id FROM audit_log
        WHERE actor = $1 AND action = 'read' AND record_type = $2 ORDER BY record_id
        """,
        actor,
        record_type,
    )
    return [r["record_id"] for r in rows]


def _ids(rows: list[CaseloadRow]) -> list[uuid.UUID]:
    return [r.episode.id for r in rows]


async def test_a_caseload_row_carries_first_and_last_scores_change_and_flags(
    conn: asyncpg.Connection, network: Network
) -> None:
    clinic = await care_clinic(network)
    episode = await _episode(conn, network, clinic, weeks_ago=12)
    start = episode.started_on
    await measure(conn, episode, "phq9", start, items=phq9(20), now=NOW)
    await measure(conn, episode, "phq9", start + timedelta(weeks=6), items=phq9(14), now=NOW)
    await measure(conn, episode, "phq9", start + timedelta(weeks=11), items=phq9(12), now=NOW)
    await measure(conn, episode, "gad7", start, items=gad7(10), now=NOW)
    await measure(conn, episode, "gad7", start + timedelta(weeks=11), items=gad7(4), now=NOW)
    await contact(conn, episode, TODAY - timedelta(days=3), now=NOW)
    await contact(conn, episode, TODAY - timedelta(days=10), now=NOW)

    [row] = await registry.caseload(conn, clinic_caller(clinic.spoke), TRAIL, today=TODAY)

    assert row.episode.id == episode.id
    assert row.weeks == 12
    assert (row.first_phq9.score if row.first_phq9 else None) == 20
    assert (row.last_phq9.score if row.last_phq9 else None) == 12
    assert row.phq9_change == -40.0
    assert row.gad7_change == -60.0
    assert row.last_phq9_item9 == 0
    assert row.last_contact_on == TODAY - timedelta(days=3)
    assert row.last_review_at is None
    # 40% fall after 10 weeks is not a response; no review yet.
    assert row.flags == ("not_improving", "never_reviewed")


async def test_the_latest_phq9_by_date_decides_item_9_even_when_entered_first(
    conn: asyncpg.Connection, network: Network
) -> None:
    clinic = await care_clinic(network)
    episode = await _episode(conn, network, clinic, weeks_ago=4)
    await measure(conn, episode, "phq9", TODAY - timedelta(days=1), items=phq9(9), now=NOW)
    # An older questionnaire entered late with item 9 above 0 is not the latest.
    await measure(
        conn, episode, "phq9", TODAY - timedelta(days=20), items=phq9(12, item9=2), now=NOW
    )

    [row] = await registry.caseload(conn, clinic_caller(clinic.spoke), TRAIL, today=TODAY)

    assert row.last_phq9_item9 == 0
    assert "safety" not in row.flags
    assert row.first_phq9 is not None and row.first_phq9.score == 12


async def test_the_caseload_is_ordered_by_first_flag_then_longest_in_treatment(
    conn: asyncpg.Connection, network: Network
) -> None:
    clinic = await care_clinic(network)
    quiet_long = await _episode(conn, network, clinic, weeks_ago=8)
    quiet_short = await _episode(conn, network, clinic, weeks_ago=5)
    new = await _episode(conn, network, clinic, weeks_ago=1)
    safety = await _episode(conn, network, clinic, weeks_ago=3)
    for e in (quiet_long, quiet_short, safety):
        await contact(conn, e, TODAY - timedelta(days=2), now=NOW)
    await measure(conn, safety, "phq9", TODAY, items=phq9(6, item9=1), now=NOW)

    rows = await registry.caseload(conn, clinic_caller(clinic.spoke), TRAIL, today=TODAY)

    assert _ids(rows) == [safety.id, new.id, quiet_long.id, quiet_short.id]
    assert rows[0].flags[0] == "safety"
    assert rows[1].flags[0] == "new"
    assert rows[2].flags == ("never_reviewed",)


async def test_filters_by_program_flag_and_consultant(
    conn: asyncpg.Connection, network: Network
) -> None:
    clinic = await care_clinic(network)
    addiction = await network.consultant([], role="addiction_medicine_specialist")
    cc = await _episode(conn, network, clinic, weeks_ago=6)
    patient = await network.patient(clinic.spoke)
    oud = await enrol(
        conn,
        clinic.spoke,
        patient.id,
        care_manager_id=clinic.care_manager.id,
        consultant_id=addiction.id,
        started_on=TODAY - timedelta(weeks=6),
        now=NOW,
        program="oud",
    )
    await measure(
        conn,
        oud,
        "moud",
        TODAY,
        adherence="missed_doses",
        medication="buprenorphine_naloxone",
        daily_dose_mg=16.0,
        now=NOW,
    )
    caller = clinic_caller(clinic.spoke)

    by_program = await registry.caseload(conn, caller, TRAIL, today=TODAY, program="oud")
    by_flag = await registry.caseload(conn, caller, TRAIL, today=TODAY, flag="moud_gap")
    by_consultant = await registry.caseload(
        conn, caller, TRAIL, today=TODAY, consultant_id=clinic.consultant.id
    )

    assert _ids(by_program) == [oud.id]
    assert _ids(by_flag) == [oud.id]
    assert by_flag[0].moud_medication == "buprenorphine_naloxone"
    assert by_flag[0].moud_adherence == "missed_doses"
    assert by_flag[0].moud_dose_mg == 16.0
    assert _ids(by_consultant) == [cc.id]


async def test_a_clinic_sees_its_own_episodes_and_the_hub_sees_every_clinic(
    conn: asyncpg.Connection, network: Network
) -> None:
    first = await care_clinic(network)
    second = await care_clinic(network, consultant=first.consultant)
    mine = await _episode(conn, network, first, weeks_ago=3)
    theirs = await _episode(conn, network, second, weeks_ago=3)

    own = await registry.caseload(conn, clinic_caller(first.spoke), TRAIL, today=TODAY)
    asking_for_other = await registry.caseload(
        conn, clinic_caller(first.spoke), TRAIL, today=TODAY, spoke_id=second.spoke.id
    )
    hub = await registry.caseload(conn, hub_caller(), TRAIL, today=TODAY)
    hub_filtered = await registry.caseload(
        conn, hub_caller(), TRAIL, today=TODAY, spoke_id=second.spoke.id
    )
    consultant = Caller(
        "consultant", "c-1", KIND_SCOPES["consultant"], consultant_id=first.consultant.id
    )
    by_consultant = await registry.caseload(conn, consultant, TRAIL, today=TODAY)

    assert _ids(own) == [mine.id]
    assert asking_for_other == []
    assert set(_ids(hub)) == {mine.id, theirs.id}
    assert _ids(hub_filtered) == [theirs.id]
    assert set(_ids(by_consultant)) == {mine.id, theirs.id}


async def test_closed_episodes_leave_the_caseload(
    conn: asyncpg.Connection, network: Network
) -> None:
    clinic = await care_clinic(network)
    episode = await _episode(conn, network, clinic, weeks_ago=3)
    caller = clinic_caller(clinic.spoke)
    await registry.close(
        conn, caller, TRAIL, episode.id, ended_on=TODAY, end_reason="remission", now=NOW
    )

    assert await registry.caseload(conn, caller, TRAIL, today=TODAY) == []


async def test_every_episode_on_the_caseload_is_audited_as_read(
    conn: asyncpg.Connection, network: Network
) -> None:
    first = await care_clinic(network)
    second = await care_clinic(network, consultant=first.consultant)
    a = await _episode(conn, network, first, weeks_ago=2)
    b = await _episode(conn, network, second, weeks_ago=2)
    trail = Trail("client:hub-reader")

    await registry.caseload(conn, hub_caller(), trail, today=TODAY)

    assert await _audited(conn, "episode", "client:hub-reader") == sorted([str(a.id), str(b.id)])
    spokes = await conn.fetch(
        "SELECT record_id, spoke_id FROM audit_log WHERE actor = 'client:hub-reader'"
    )
    assert {(r["record_id"], r["spoke_id"]) for r in spokes} == {
        (str(a.id), first.spoke.id),
        (str(b.id), second.spoke.id),
    }


async def test_get_episode_is_404_for_another_clinic_and_audited_for_its_own(
    conn: asyncpg.Connection, network: Network
) -> None:
    first = await care_clinic(network)
    second = await care_clinic(network, consultant=first.consultant)
    episode = await _episode(conn, network, first, weeks_ago=2)
    other = Trail("client:other-clinic")

    with pytest.raises(NotFound):
        await registry.get_episode(conn, clinic_caller(second.spoke), other, episode.id)
    with pytest.raises(NotFound):
        await registry.history(conn, clinic_caller(second.spoke), other, episode.id)
    with pytest.raises(NotFound):
        await registry.get_episode(conn, hub_caller(), other, uuid.uuid4())
    got = await registry.get_episode(conn, clinic_caller(first.spoke), TRAIL, episode.id)
    hub_got = await registry.get_episode(conn, hub_caller(), TRAIL, episode.id)

    assert got == hub_got == episode
    assert await _audited(conn, "episode", "client:other-clinic") == []
    assert await _audited(conn, "episode", TRAIL.actor) == [str(episode.id)] * 2


async def test_trends_and_history_read_oldest_and_newest_first(
    conn: asyncpg.Connection, network: Network
) -> None:
    clinic = await care_clinic(network)
    episode = await _episode(conn, network, clinic, weeks_ago=6)
    empty = await _episode(conn, network, clinic, weeks_ago=1)
    start = episode.started_on
    m2 = await measure(conn, episode, "phq9", start + timedelta(weeks=4), items=phq9(8), now=NOW)
    m1 = await measure(conn, episode, "phq9", start, items=phq9(15), now=NOW)
    g1 = await measure(conn, episode, "gad7", start + timedelta(days=1), items=gad7(9), now=NOW)
    c1 = await contact(conn, episode, start + timedelta(days=2), now=NOW)
    c2 = await contact(conn, episode, start + timedelta(days=9), now=NOW)

    found = await registry.trends(conn, [episode.id, empty.id])
    trail = Trail("client:history-reader")
    seen = await registry.history(conn, clinic_caller(clinic.spoke), trail, episode.id)

    assert [(s.measured_on, s.score) for s in found[episode.id].phq9] == [
        (start, 15),
        (start + timedelta(weeks=4), 8),
    ]
    assert [s.score for s in found[episode.id].gad7] == [9]
    assert found[empty.id] == registry.Trend([], [])
    assert [m.id for m in seen.measures] == [m2.id, g1.id, m1.id]
    assert [c.id for c in seen.contacts] == [c2.id, c1.id]
    assert m1.score == 15 and m1.items == phq9(15)
    assert await _audited(conn, "care_measure", trail.actor) == sorted(
        str(i) for i in (m1.id, m2.id, g1.id)
    )
    assert await _audited(conn, "care_contact", trail.actor) == sorted(
        str(i) for i in (c1.id, c2.id)
    )
