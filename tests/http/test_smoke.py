"""The app answers its health checks and serves its API description."""

from aiohttp.test_utils import TestClient


async def test_health_and_readiness_answer(client: TestClient) -> None:
    assert (await client.get("/healthz")).status == 200
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert await ready.json() == {"status": "ready"}
