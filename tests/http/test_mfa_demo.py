"""The demo's hub staff and consultants sign in with the key the demo prints."""

from __future__ import annotations

import asyncpg
from aiohttp.test_utils import TestClient

from telehub import demo, mfa
from telehub.settings import Settings
from tests.factories import SIGNIN_TOKEN, Clock, enter_code


async def test_a_demo_coordinator_signs_in_with_the_printed_key(
    client: TestClient, conn: asyncpg.Connection, settings: Settings, clock: Clock
) -> None:
    network = await demo.seed(conn, settings, now=clock.now)
    coordinator = network["hub_users"][1]
    consultant = network["consultants"][0]["users"][0]
    assert coordinator["totp_secret"] and consultant["totp_secret"]
    assert all("totp_secret" not in u for s in network["spokes"] for u in s["users"])

    token = SIGNIN_TOKEN.findall(await (await client.get("/signin")).text())[0]
    password = await client.post(
        "/signin",
        data={
            "email": coordinator["email"],
            "password": coordinator["password"],
            "csrf_token": token,
        },
        allow_redirects=False,
    )
    assert password.headers["Location"] == "/signin/code"
    code = mfa.code_at(coordinator["totp_secret"], mfa.step_of(clock.now))
    done = await enter_code(client, code)
    assert done.status == 303 and done.headers["Location"] == "/coordinator"
    assert (await client.get("/coordinator", allow_redirects=False)).status == 200


async def test_without_the_servers_key_the_demo_leaves_enrolment_to_first_sign_in(
    client: TestClient, conn: asyncpg.Connection, settings: Settings, clock: Clock
) -> None:
    network = await demo.seed(conn, settings, now=clock.now, authenticators=False)
    admin = network["hub_users"][0]
    assert "totp_secret" not in admin
    token = SIGNIN_TOKEN.findall(await (await client.get("/signin")).text())[0]
    password = await client.post(
        "/signin",
        data={"email": admin["email"], "password": admin["password"], "csrf_token": token},
        allow_redirects=False,
    )
    assert password.headers["Location"] == "/signin/enrol"
