"""The database's patient keys: what counts as the same name and the same MRN (migration 015)."""

from __future__ import annotations

import asyncpg
import pytest


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("José", "jose"),
        ("JOSÉ", "jose"),
        ("Jose\u0301", "jose"),  # already decomposed
        ("  Ana   María ", "ana maria"),
        ("Nguyễn", "nguyen"),
        ("Zoë", "zoe"),
        ("O'Brien", "o'brien"),
    ],
)
async def test_a_name_key_ignores_case_accents_and_extra_spaces(
    conn: asyncpg.Connection, written: str, key: str
) -> None:
    assert await conn.fetchval("SELECT patient_name_key($1)", written) == key


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("AB123", "ab123"),
        ("ab-12 3", "ab123"),
        ("AB\u201312\u00a03", "ab123"),  # an en dash and a no-break space
        ("\uff21\uff22\uff11\uff12\uff13", "ab123"),  # full-width, as some keyboards type it
    ],
)
async def test_an_mrn_key_ignores_case_spaces_and_dashes(
    conn: asyncpg.Connection, written: str, key: str
) -> None:
    assert await conn.fetchval("SELECT patient_mrn_key($1)", written) == key


async def test_the_keys_are_kept_beside_the_patient(conn: asyncpg.Connection) -> None:
    spoke = await conn.fetchval(
        "INSERT INTO spokes (slug, name, state, timezone)"
        " VALUES ('keys', 'K', 'NY', 'America/New_York') RETURNING id"
    )
    row = await conn.fetchrow(
        """
        INSERT INTO patients (spoke_id, mrn, given_name, family_name, birth_date, state)
        VALUES ($1, 'ab-12 3', 'José', 'Núñez', '1965-01-21', 'NY')
        RETURNING mrn_key, given_key, family_key
        """,
        spoke,
    )
    assert dict(row) == {"mrn_key": "ab123", "given_key": "jose", "family_key": "nunez"}


async def test_one_clinic_cannot_hold_one_mrn_twice_however_written(
    conn: asyncpg.Connection,
) -> None:
    spoke = await conn.fetchval(
        "INSERT INTO spokes (slug, name, state, timezone)"
        " VALUES ('keys', 'K', 'NY', 'America/New_York') RETURNING id"
    )
    insert = """
        INSERT INTO patients (spoke_id, mrn, given_name, family_name, birth_date, state)
        VALUES ($1, $2, 'Jamie', 'Fictus', '1965-01-21', 'NY')
    """
    await conn.execute(insert, spoke, "AB123")
    with pytest.raises(asyncpg.UniqueViolationError):
        await conn.execute(insert, spoke, "ab-12 3")
