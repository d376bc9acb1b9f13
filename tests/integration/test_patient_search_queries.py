"""Searching a clinic's patients: ranked in one query, and the duplicate check an index lookup."""

from __future__ import annotations

from datetime import date

import asyncpg

from spokes import store
from spokes.patients import birth_date_in
from tests.factories import Network, SpokeUser


async def _patient(
    conn: asyncpg.Connection, spoke: SpokeUser, mrn: str, given: str, family: str, born: str
) -> None:
    await store.insert_patient(
        conn,
        spoke_id=spoke.id,
        mrn=mrn,
        given_name=given,
        family_name=family,
        birth_date=date.fromisoformat(born),
        state="VT",
    )


async def _ranked(conn: asyncpg.Connection, spoke: SpokeUser, text: str) -> list[str]:
    wanted = store.Search(text, birth_date_in(text), offset=0, limit=20)
    return [p.family_name for p, _ in await store.search_patients(conn, spoke.id, wanted)]


async def test_exact_mrn_then_birth_date_then_name_prefix_then_name_holding_it(
    conn: asyncpg.Connection, network: Network
) -> None:
    spoke = await network.spoke()
    await _patient(conn, spoke, "X-1", "Ann", "Holdsmith", "1970-01-01")  # holds "smith"
    await _patient(conn, spoke, "X-2", "Bo", "Smithers", "1970-01-01")  # starts with it
    await _patient(conn, spoke, "SMITH", "Cy", "Zed", "1970-01-01")  # its MRN is "smith"
    await _patient(conn, spoke, "X-4", "Smith", "Young", "1970-01-01")  # given name starts
    await _patient(conn, spoke, "X-5", "Di", "Other", "1970-01-01")  # no match

    assert await _ranked(conn, spoke, "smith") == ["Zed", "Smithers", "Young", "Holdsmith"]


async def test_a_date_finds_the_mrn_written_as_that_date_before_those_born_that_day(
    conn: asyncpg.Connection, network: Network
) -> None:
    spoke = await network.spoke()
    await _patient(conn, spoke, "X-1", "Ann", "Born", "1965-01-21")
    await _patient(conn, spoke, "1965 0121", "Bo", "Numbered", "1990-05-05")
    await _patient(conn, spoke, "X-3", "Cy", "Later", "1965-01-22")

    assert await _ranked(conn, spoke, "1965-01-21") == ["Numbered", "Born"]


async def test_a_search_is_one_query(conn: asyncpg.Connection, network: Network) -> None:
    spoke = await network.spoke()
    await _patient(conn, spoke, "X-1", "José", "Núñez", "1965-01-21")
    await _ranked(conn, spoke, "warm")  # the connection's first use introspects types
    seen: list[str] = []

    def log(record: asyncpg.connection.LoggedQuery) -> None:
        seen.append(record.query)

    conn.add_query_logger(log)
    try:
        assert await _ranked(conn, spoke, "jose") == ["Núñez"]
        await conn.execute("SELECT 1")  # a logger is called after its query has answered
    finally:
        conn.remove_query_logger(log)
    assert len([q for q in seen if "FROM patients" in q]) == 1


async def test_an_mrn_or_a_date_is_found_by_index_lookups_alone(
    conn: asyncpg.Connection, network: Network
) -> None:
    spokes = await _many(conn, network)
    await _ranked(conn, spokes[0], "M-77")  # the connection's first use introspects types
    plans: list[str] = []

    def log(record: asyncpg.connection.LoggedQuery) -> None:
        plans.append(record.query)

    conn.add_query_logger(log)
    try:
        found = await _ranked(conn, spokes[0], "m 77")
        await conn.execute("SELECT 1")
    finally:
        conn.remove_query_logger(log)
    assert found == ["Family77"]
    [search] = [q for q in plans if "FROM patients" in q]
    for text, index in (("m 77", "patients_spoke_mrn_key"), ("1950-03-19", "birth_date")):
        plan = "\n".join(
            r[0]
            for r in await conn.fetch(
                f"EXPLAIN {search}", spokes[0].id, text, birth_date_in(text), 0, 21
            )
        )
        assert "Seq Scan on patients" not in plan, plan
        assert index in plan, plan


async def _many(conn: asyncpg.Connection, network: Network) -> list[SpokeUser]:
    """Four clinics of 2,500 patients each, analysed, so the planner sees a real table."""
    spokes = [await network.spoke() for _ in range(4)]
    await conn.execute(
        """
        INSERT INTO patients (spoke_id, mrn, given_name, family_name, birth_date, state)
        SELECT s, 'M-' || n, 'Given' || n, 'Family' || (n % 400), DATE '1950-01-01' + n % 9000,
               'VT'
        FROM unnest($1::bigint[]) AS s, generate_series(1, 2500) AS n
        """,
        [s.id for s in spokes],
    )
    await conn.execute("ANALYZE patients")
    return spokes


async def test_the_duplicate_check_looks_up_indexes_not_the_whole_table(
    conn: asyncpg.Connection, network: Network
) -> None:
    spokes = await _many(conn, network)
    plan = "\n".join(
        r[0]
        for r in await conn.fetch(
            """
            EXPLAIN SELECT id FROM patients
            WHERE spoke_id = $1
              AND (mrn_key = patient_mrn_key($2)
                   OR (birth_date = $5
                       AND (family_key, given_key) IN (
                           (patient_name_key($4), patient_name_key($3)),
                           (patient_name_key($3), patient_name_key($4)))))
            """,
            spokes[0].id,
            "m-77",
            "Given77",
            "Family77",
            date(1950, 3, 19),
        )
    )
    assert "Seq Scan" not in plan, plan
    assert "patients_spoke_mrn_key" in plan, plan
