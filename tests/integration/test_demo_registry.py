"""The demo shows every part of the collaborative care registry: care managers, a caseload with
each flag, a billing month with each code, a recommendation note in the clinic's inbox and a
case review's full agenda, all written through the registry's own functions."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from care import billing_store, ledger, registry, review
from consults import notes
from telehub import demo
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.settings import Settings
from tests.factories import Clock

PROMISED = {"safety", "not_improving", "moud_gap", "positive_screen", "new", "never_reviewed"}
HUB = Caller("hub_admin", "test-hub", KIND_SCOPES["hub_admin"])


@pytest.fixture
async def network(conn: asyncpg.Connection, settings: Settings, clock: Clock) -> dict[str, Any]:
    """The demo network, seeded at the test clock's now (Monday 1 March 2027)."""
    return await demo.seed(conn, settings, now=clock.now, authenticators=False)


def _clinic(spoke: dict[str, Any]) -> Caller:
    return Caller("spoke", spoke["client_id"], KIND_SCOPES["spoke"], spoke["id"])


async def test_every_clinic_has_a_care_manager_with_a_demo_login(
    conn: asyncpg.Connection, network: dict[str, Any]
) -> None:
    for spoke in network["spokes"]:
        managers = [u for u in spoke["users"] if u["role"] == "care_manager"]
        assert len(managers) == 1 and managers[0]["password"]
        stored = await conn.fetchrow(
            "SELECT role, spoke_id FROM users WHERE email = $1", managers[0]["email"]
        )
        assert stored is not None and dict(stored) == {
            "role": "care_manager",
            "spoke_id": spoke["id"],
        }


async def test_each_clinics_caseload_has_every_flag_the_demo_promises_in_both_programs(
    conn: asyncpg.Connection, network: dict[str, Any], clock: Clock
) -> None:
    for spoke in network["spokes"]:
        caller = _clinic(spoke)
        rows = await registry.caseload(conn, caller, Trail(caller.actor), today=clock.now.date())

        assert 8 <= len(rows) <= 15
        assert {r.episode.program for r in rows} == {"collaborative_care", "oud"}
        assert {f for r in rows for f in r.flags} >= PROMISED
        assert rows[0].flags[0] == "safety"  # at the top of the caseload
        remission = [r for r in rows if r.last_phq9 is not None and r.last_phq9.score < 5]
        assert remission and all(
            r.phq9_change is not None and r.phq9_change <= -50 for r in remission
        )
        long_and_flat = [r for r in rows if "not_improving" in r.flags]
        assert all(r.weeks >= 10 for r in long_and_flat)


async def test_a_patient_is_in_both_programs_and_one_episode_closed_in_remission(
    conn: asyncpg.Connection, network: dict[str, Any]
) -> None:
    spoke_id = network["spokes"][0]["id"]
    both = await conn.fetchval(
        "SELECT count(*) FROM (SELECT patient_id FROM episodes WHERE spoke_id = $1"
        " AND ended_on IS NULL GROUP BY patient_id HAVING count(DISTINCT program) = 2) AS t",
        spoke_id,
    )
    closed = await conn.fetch(
        "SELECT end_reason FROM episodes WHERE spoke_id = $1 AND ended_on IS NOT NULL", spoke_id
    )
    assert both == 1
    assert [r["end_reason"] for r in closed] == ["remission"]


async def test_last_months_billing_has_each_code_and_a_patient_under_sixteen_minutes(
    conn: asyncpg.Connection, network: dict[str, Any]
) -> None:
    spoke = network["spokes"][0]
    caller = _clinic(spoke)
    february = date(2027, 2, 1)  # the month before the clock's 1 March 2027

    report = await ledger.billing_report(
        conn, caller, Trail(caller.actor), month=february, spoke_id=None, names=False
    )
    minutes = await billing_store.counted_minutes(conn, spoke["id"], february, date(2027, 3, 1))

    codes = {(r.code, r.first_month) for r in report.rows}
    assert {("99492", True), ("99493", False), ("99494", False), ("G2214", False)} <= codes
    assert any(0 < m.minutes < 16 for m in minutes)
    assert not {r.patient_id for r in report.rows} & {
        m.patient_id for m in minutes if m.minutes < 16
    }


async def test_a_signed_recommendation_note_waits_in_each_clinics_inbox(
    conn: asyncpg.Connection, network: dict[str, Any]
) -> None:
    for spoke in network["spokes"]:
        caller = _clinic(spoke)
        inbox = await notes.inbox(conn, caller, Trail(caller.actor), acknowledged=False, limit=500)
        recommended = [n for n in inbox if n.recommendation_id is not None]

        assert spoke["registry"]["recommendations"] > 0
        assert len(recommended) == spoke["registry"]["recommendations"]
        assert all(n.signed_at is not None and n.spoke_id == spoke["id"] for n in recommended)


async def test_the_upcoming_case_review_has_a_full_agenda_safety_first(
    conn: asyncpg.Connection, network: dict[str, Any], clock: Clock
) -> None:
    for spoke in network["spokes"]:
        upcoming = spoke["registry"]["upcoming_case_review"]
        assert upcoming is not None

        agenda = await review.agenda(conn, HUB, Trail("test"), uuid.UUID(upcoming), now=clock.now)

        assert agenda.start > clock.now and agenda.spoke_id == spoke["id"]
        assert len(agenda.items) >= 8
        assert agenda.items[0].row.flags[0] == "safety"
        assert any(item.last_recommendation is not None for item in agenda.items)
        assert any(len(item.trend.phq9) >= 4 for item in agenda.items)


async def test_the_demo_json_names_the_registry_of_each_clinic(network: dict[str, Any]) -> None:
    for spoke in network["spokes"]:
        made = spoke["registry"]
        assert made["care_manager"] in {u["email"] for u in spoke["users"]}
        assert made["open_episodes"] >= 8 and made["closed_episodes"] == 1
        assert made["past_case_review"] is not None


@pytest.mark.parametrize(
    "opened", [datetime(2027, 1, 31, 23, 30, tzinfo=UTC), datetime(2027, 7, 15, 9, 0, tzinfo=UTC)]
)
async def test_the_demo_shows_the_same_registry_whatever_day_it_is_opened(
    conn: asyncpg.Connection, settings: Settings, opened: datetime
) -> None:
    network = await demo.seed(conn, settings, now=opened, authenticators=False)
    spoke = network["spokes"][0]
    caller = _clinic(spoke)
    today = opened.astimezone(ZoneInfo(spoke["timezone"])).date()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)

    rows = await registry.caseload(conn, caller, Trail(caller.actor), today=today)
    report = await ledger.billing_report(
        conn, caller, Trail(caller.actor), month=last_month, spoke_id=None, names=False
    )

    assert {f for r in rows for f in r.flags} >= PROMISED
    assert {r.code for r in report.rows} >= {"99492", "99493", "99494", "G2214"}
    assert spoke["registry"]["recommendations"] > 0
    assert spoke["registry"]["upcoming_case_review"] is not None
