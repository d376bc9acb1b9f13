"""The sign-in throttle's address count: failures add up, a clinic's good sign-ins do not."""

from __future__ import annotations

import asyncpg

from telehub import throttle
from telehub.throttle import SIGNIN_ADDRESS

ADDRESS = "203.0.113.7"  # a clinic's one public address, shared by all its staff


async def test_many_good_sign_ins_from_one_address_never_add_up_to_a_wait(
    conn: asyncpg.Connection,
) -> None:
    for _ in range(SIGNIN_ADDRESS.free * 3):
        assert await throttle.claim(conn, [(SIGNIN_ADDRESS, ADDRESS)]) is None
        await throttle.refund(conn, SIGNIN_ADDRESS, ADDRESS)  # the password was right


async def test_a_good_sign_in_keeps_the_failures_before_it(conn: asyncpg.Connection) -> None:
    for _ in range(SIGNIN_ADDRESS.free - 1):
        assert await throttle.claim(conn, [(SIGNIN_ADDRESS, ADDRESS)]) is None  # wrong
    assert await throttle.claim(conn, [(SIGNIN_ADDRESS, ADDRESS)]) is None  # the limit's last
    await throttle.refund(conn, SIGNIN_ADDRESS, ADDRESS)  # ...was a right password
    assert await throttle.claim(conn, [(SIGNIN_ADDRESS, ADDRESS)]) is None  # wrong: the last
    assert await throttle.claim(conn, [(SIGNIN_ADDRESS, ADDRESS)]) is not None  # now wait


async def test_the_old_per_email_table_is_gone(conn: asyncpg.Connection) -> None:
    assert await conn.fetchval("SELECT to_regclass('login_throttle')") is None
