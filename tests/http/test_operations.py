"""Operational behaviour: a saturated pool answers 503, logs say one safe line per request."""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from telehub.app import create_app
from telehub.db import create_pool
from telehub.settings import Settings
from tests.factories import Clock, Network
from tests.log_capture import log_lines_fixture, logged  # noqa: F401 (the fixture log_lines)


async def test_a_saturated_pool_answers_503_instead_of_hanging(
    aiohttp_client: AiohttpClient, settings: Settings, network: Network, clock: Clock
) -> None:
    narrow = replace(settings, db_pool_min=1, db_pool_max=1, db_acquire_timeout=0.2)
    pool = await create_pool(narrow)
    try:
        client = await aiohttp_client(create_app(narrow, pool=pool, clock=clock))
        async with pool.acquire():  # the only connection is busy elsewhere
            response = await asyncio.wait_for(
                client.get("/api/v1/services", headers=network.hub_admin_headers()), 10
            )
            body = await response.json()
        assert response.status == 503
        assert response.headers["Retry-After"] == "1"
        assert response.content_type == "application/problem+json"
        assert body["type"] == "/problems/unavailable"
        after = await client.get("/api/v1/services", headers=network.hub_admin_headers())
        assert after.status == 200
    finally:
        await pool.close()


async def test_each_request_logs_one_line_without_patient_data_or_raw_paths(
    client: TestClient, network: Network, log_lines: io.StringIO
) -> None:
    spoke = await network.spoke()
    patient = {
        "mrn": "MRN-SECRET-4471",
        "given_name": "Philomena",
        "family_name": "Quackenbush",
        "birth_date": "1979-05-04",
        "state": "VT",
    }
    created = await client.post("/api/v1/patients", json=patient, headers=spoke.headers)
    assert created.status == 201
    patient_id = (await created.json())["id"]
    await client.get("/api/v1/patients", params={"mrn": "MRN-SECRET-4471"}, headers=spoke.headers)
    await client.get(f"/api/v1/patients/{patient_id}", headers=spoke.headers)
    await client.post("/api/v1/patients", json=patient, headers=spoke.headers)  # 409
    await client.get("/api/v1/nowhere/Quackenbush")  # 404, raw path holds a name

    lines = logged(log_lines)
    requests = [line for line in lines if line["event"] == "request"]
    assert len(requests) == 5
    assert [r["status"] for r in requests] == [201, 200, 200, 409, 404]
    assert len({r["request_id"] for r in requests}) == 5
    assert requests[2]["route"] == "/api/v1/patients/{id}"
    assert requests[0]["actor"] == f"client:{spoke.client_id}"
    text = log_lines.getvalue()
    for secret in ("MRN-SECRET-4471", "Philomena", "Quackenbush", "1979-05-04", patient_id):
        assert secret not in text


async def test_a_request_id_is_returned_and_a_good_one_from_the_caller_is_kept(
    client: TestClient,
) -> None:
    mine = await client.get("/healthz", headers={"X-Request-Id": "clinic-trace-0001"})
    assert mine.headers["X-Request-Id"] == "clinic-trace-0001"
    for junk in ("has spaces in it", "x" * 200, "<script>"):
        answered = await client.get("/healthz", headers={"X-Request-Id": junk})
        assert answered.headers["X-Request-Id"] != junk
        assert len(answered.headers["X-Request-Id"]) == 32


async def test_an_unexpected_error_is_a_500_problem_without_a_traceback(
    client: TestClient, network: Network, log_lines: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduling import store

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom: internal detail")

    monkeypatch.setattr(store, "list_services", broken)
    response = await client.get("/api/v1/services", headers=network.hub_admin_headers())
    body = await response.text()
    assert response.status == 500
    assert "boom" not in body and "Traceback" not in body
    assert json.loads(body)["type"] == "/problems/internal"
    assert "request.failed" in log_lines.getvalue()


async def test_a_redirect_is_logged_with_its_own_status_and_carries_the_request_id(
    client: TestClient, log_lines: io.StringIO
) -> None:
    response = await client.get("/spoke", allow_redirects=False)
    assert response.status == 303
    assert len(response.headers["X-Request-Id"]) == 32
    lines = logged(log_lines)
    assert [line["status"] for line in lines if line["event"] == "request"] == [303]
