"""The demo network runs two weekly groups with patients of several clinics: one nearly full,
one full with a waitlist, so every group page and feed has something to show."""

from __future__ import annotations

import asyncpg

from telehub import demo
from telehub.settings import Settings
from tests.factories import Clock


async def test_the_demo_has_a_nearly_full_group_and_a_full_one_with_a_waitlist(
    conn: asyncpg.Connection, settings: Settings, clock: Clock
) -> None:
    network = await demo.seed(conn, settings, now=clock.now, authenticators=False)

    made = {g["title"]: g for g in network["groups"]}
    assert len(made) == 2
    rows = await conn.fetch(
        """
        SELECT g.title, g.repeat, g.capacity, count(DISTINCT o.id) AS sessions,
               min(o.taken) AS least_taken, max(o.taken) AS most_taken,
               (SELECT count(DISTINCT e.spoke_id) FROM group_enrolments e
                 WHERE e.group_id = g.id AND e.withdrawn_from IS NULL) AS clinics,
               (SELECT count(*) FROM group_waitlist w
                 WHERE w.group_id = g.id AND w.status = 'waiting') AS waiting,
               min(o.start) AS first_start
          FROM groups g
          JOIN LATERAL (
                SELECT o.id, lower(o.period) AS start,
                       (SELECT count(*) FROM group_seats s
                         WHERE s.occurrence_id = o.id AND s.attendance <> 'released') AS taken
                  FROM group_occurrences o WHERE o.group_id = g.id AND o.status = 'scheduled'
               ) o ON true
         GROUP BY g.id ORDER BY g.title
        """
    )
    by_title = {r["title"]: r for r in rows}
    nearly = by_title["MOUD support group · Tuesdays 19:00"]
    waiting = by_title["Recovery skills group · Thursdays 18:00"]
    assert all(r["repeat"] == "weekly" and r["first_start"] > clock.now for r in rows)
    # Nearly full: one seat open in every session, taken by patients of two clinics.
    assert (nearly["capacity"], nearly["least_taken"], nearly["most_taken"]) == (8, 7, 7)
    assert nearly["clinics"] == 2 and nearly["waiting"] == 0 and nearly["sessions"] == 12
    # Full in every session, and two patients of two clinics still wait.
    assert (waiting["capacity"], waiting["least_taken"], waiting["most_taken"]) == (6, 6, 6)
    assert waiting["clinics"] == 2 and waiting["waiting"] == 2
    waiting_clinics = await conn.fetchval(
        "SELECT count(DISTINCT spoke_id) FROM group_waitlist WHERE status = 'waiting'"
    )
    assert waiting_clinics == 2
    # A patient left from session 3: the first to wait (Mesa Verde's) got that seat, and only
    # Mesa Verde is told (its webhook and its dashboard).
    mesa = next(c["id"] for c in network["spokes"] if c["slug"] == "mesa-verde-chc")
    assigned = await conn.fetch(
        "SELECT w.spoke_id, e.from_position FROM group_waitlist w"
        " JOIN group_enrolments e ON e.id = w.enrolment_id WHERE w.status = 'assigned'"
    )
    assert [(r["spoke_id"], r["from_position"]) for r in assigned] == [(mesa, 3)]
    told = await conn.fetch("SELECT spoke_id FROM outbox WHERE event_type = 'group.seat_assigned'")
    assert [r["spoke_id"] for r in told] == [mesa]
    assert made["MOUD support group · Tuesdays 19:00"]["seats_taken"] == 7
    assert made["Recovery skills group · Thursdays 18:00"]["waiting"] == 2


async def test_the_groups_leave_every_1_to_1_slot_of_their_counselors_as_it_was(
    conn: asyncpg.Connection, settings: Settings, clock: Clock
) -> None:
    await demo.seed(conn, settings, now=clock.now, authenticators=False)

    # Each occurrence is after its counselor's weekly hours end (19:00 and 18:00 their time).
    inside = await conn.fetchval(
        """
        SELECT count(*) FROM group_occurrences o
          JOIN consultants c ON c.id = o.consultant_id
          JOIN availability_rules r ON r.consultant_id = c.id
         WHERE r.weekday = extract(isodow FROM lower(o.period) AT TIME ZONE c.timezone) - 1
           AND (lower(o.period) AT TIME ZONE c.timezone)::time < r.end_time
           AND (upper(o.period) AT TIME ZONE c.timezone)::time > r.start_time
        """
    )
    assert inside == 0
