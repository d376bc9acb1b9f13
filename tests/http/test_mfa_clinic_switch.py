"""Switching a clinic's second factor on signs out its staff who have none, and is audited."""

from __future__ import annotations

import asyncpg
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from telehub.app import create_app
from telehub.settings import Settings
from tests.factories import Clock, Network, page_csrf, sign_in


async def _switch(client: TestClient, spoke_id: int, on: bool) -> None:
    data = {"csrf_token": await page_csrf(client, "/coordinator")}
    if on:
        data["mfa_required"] = "on"
    switched = await client.post(
        f"/coordinator/spokes/{spoke_id}/mfa", data=data, allow_redirects=False
    )
    assert switched.status == 303


async def test_switching_a_clinics_mfa_on_signs_out_its_staff_without_an_authenticator(
    pool: asyncpg.Pool,
    aiohttp_client: AiohttpClient,
    client: TestClient,
    settings: Settings,
    clock: Clock,
    network: Network,
    conn: asyncpg.Connection,
) -> None:
    spoke = await network.spoke()
    other_spoke = await network.spoke()
    browsers = {}
    for name, spoke_id, authenticator in (
        ("plain", spoke.id, False),
        ("enrolled", spoke.id, True),
        ("elsewhere", other_spoke.id, False),
    ):
        email, password = await network.user(
            "spoke_scheduler", spoke_id=spoke_id, authenticator=authenticator
        )
        browser = await aiohttp_client(create_app(settings, pool=pool, clock=clock))
        assert (await sign_in(browser, email, password)).status == 303
        browsers[name] = browser
    coordinator, password = await network.user("hub_coordinator")
    await sign_in(client, coordinator, password)

    await _switch(client, spoke.id, on=True)

    async def status(name: str) -> int:
        return (await browsers[name].get("/spoke", allow_redirects=False)).status

    assert await status("plain") == 303  # to sign in, and to enrol after the password
    assert await status("enrolled") == 200
    assert await status("elsewhere") == 200
    assert (await client.get("/coordinator", allow_redirects=False)).status == 200

    await _switch(client, spoke.id, on=False)
    rows = await conn.fetch(
        "SELECT actor, action, record_type, record_id, spoke_id, remote_addr FROM audit_log"
        " WHERE record_type LIKE 'spoke_mfa%' ORDER BY id"
    )
    assert [(r["action"], r["record_type"], r["record_id"], r["spoke_id"]) for r in rows] == [
        ("update", "spoke_mfa_on", str(spoke.id), spoke.id),
        ("update", "spoke_mfa_off", str(spoke.id), spoke.id),
    ]
    assert all(r["actor"].startswith("user:") and r["remote_addr"] for r in rows)
