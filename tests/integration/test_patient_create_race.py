"""Two transactions adding one MRN at the same moment: the unique MRN key lets one commit and
turns the other into a possible-duplicate refusal naming the patient that won."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date
from typing import Any

import asyncpg
import pytest

from spokes import patients
from spokes import store as spokes_store
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.db import create_pool
from telehub.errors import PossibleDuplicate
from telehub.settings import Settings
from tests.factories import Network

WAITING_ON_LOCKS = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'
"""


async def test_the_second_of_two_racing_creates_is_refused_with_the_first(
    settings: Settings, network: Network
) -> None:
    spoke = await network.spoke()
    caller = Caller("spoke", spoke.client_id, KIND_SCOPES["spoke"], spoke.id)
    who: dict[str, Any] = dict(birth_date=date(1965, 1, 21), state="VT", phone=None, email=None)
    pool = await create_pool(replace(settings, db_pool_min=3, db_pool_max=3))
    try:
        async with pool.acquire() as first, pool.acquire() as second, pool.acquire() as probe:
            async with first.transaction():
                # Both have checked for candidates and found none: the first has inserted
                # but not committed, so the second's insert must wait on the MRN key.
                won = await patients.register(
                    first,
                    caller,
                    Trail("a"),
                    mrn="AB123",
                    given_name="Ann",
                    family_name="One",
                    **who,
                )
                racing = asyncio.create_task(_register(second, caller, "ab-12 3", who))
                waited = False
                for _ in range(1000):  # until the second waits on the first's row
                    waited = bool(await probe.fetchval(WAITING_ON_LOCKS))
                    if waited:
                        break
                    await asyncio.sleep(0.01)
            with pytest.raises(PossibleDuplicate) as refused:
                await racing
            count = await probe.fetchval("SELECT count(*) FROM patients")
    finally:
        await pool.close()

    assert waited, "the second create never waited on the first's MRN key"
    assert count == 1
    assert [c["id"] for c in refused.value.extra["candidates"]] == [str(won.id)]
    assert refused.value.extra["confirmable"] is False


async def _register(
    conn: asyncpg.Connection, caller: Caller, mrn: str, who: dict[str, Any]
) -> spokes_store.Patient:
    async with conn.transaction():
        return await patients.register(
            conn,
            caller,
            Trail("b"),
            mrn=mrn,
            given_name="Bo",
            family_name="Two",
            confirm_new=True,
            **who,
        )
