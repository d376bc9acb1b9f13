"""Repeated failures at the token endpoint are slowed per client id and per address: 429 with
Retry-After, counted before the secret or assertion is checked. A success forgets the client
id's count and takes back only its own attempt from the address's."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from telehub.settings import Settings
from telehub.throttle import TOKEN_ADDRESS, TOKEN_CLIENT
from tests.factories import Network, SpokeUser
from tests.http.oauth_support import (
    ask_token,
    assertion_form,
    backend_client,
    basic,
    client_assertion,
    granted,
    refused,
    rsa_key,
)


@pytest.fixture
async def spoke(network: Network) -> SpokeUser:
    """A spoke clinic whose client has a secret."""
    return await network.spoke()


async def wrong_secret(client: TestClient, spoke: SpokeUser) -> ClientResponse:
    """A token request with the spoke's client id and a wrong secret."""
    return await ask_token(client, {}, basic(spoke.client_id, spoke.client_secret + "x"))


async def right_secret(client: TestClient, spoke: SpokeUser) -> ClientResponse:
    """A token request with the spoke's real credentials."""
    return await ask_token(client, {}, basic(spoke.client_id, spoke.client_secret))


async def slowed(response: ClientResponse) -> int:
    """Check a 429 in RFC 6749 form with a Retry-After; return the seconds to wait."""
    body = await refused(response, 429, "invalid_request")
    assert "too many failed attempts" in body["error_description"]
    wait = int(response.headers["Retry-After"])
    assert wait >= 1
    return wait


async def end_the_wait(conn: asyncpg.Connection) -> None:
    """Let every wait run out now, as if its seconds had passed (no sleeping in tests)."""
    await conn.execute("UPDATE throttle SET blocked_until = now() - interval '1 second'")


async def test_wrong_secrets_after_the_free_ones_get_429_with_retry_after(
    client: TestClient, spoke: SpokeUser
) -> None:
    for _ in range(TOKEN_CLIENT.free):
        await refused(await wrong_secret(client, spoke), 401, "invalid_client")
    await slowed(await wrong_secret(client, spoke))


async def test_during_the_wait_even_the_right_secret_is_not_checked(
    client: TestClient, spoke: SpokeUser
) -> None:
    # Counted and refused before the check: a guess during the wait learns nothing.
    for _ in range(TOKEN_CLIENT.free):
        await wrong_secret(client, spoke)
    await slowed(await right_secret(client, spoke))


async def test_after_the_wait_the_right_secret_works_and_the_count_starts_again(
    client: TestClient, conn: asyncpg.Connection, spoke: SpokeUser
) -> None:
    for _ in range(TOKEN_CLIENT.free):
        await wrong_secret(client, spoke)
    await slowed(await wrong_secret(client, spoke))
    await end_the_wait(conn)
    await granted(await right_secret(client, spoke))
    # Forgotten on success: the next mistakes are free again.
    for _ in range(TOKEN_CLIENT.free):
        await refused(await wrong_secret(client, spoke), 401, "invalid_client")


async def test_the_waits_grow_with_each_failure_after_a_wait(
    client: TestClient, conn: asyncpg.Connection, spoke: SpokeUser
) -> None:
    for _ in range(TOKEN_CLIENT.free):
        await wrong_secret(client, spoke)
    first = await slowed(await wrong_secret(client, spoke))
    await end_the_wait(conn)
    await refused(await wrong_secret(client, spoke), 401, "invalid_client")
    second = await slowed(await wrong_secret(client, spoke))
    assert second > first


async def test_parallel_wrong_secrets_are_all_counted(client: TestClient, spoke: SpokeUser) -> None:
    # The attack: many guesses at once. Only the free ones reach the secret check.
    responses = await asyncio.gather(*(wrong_secret(client, spoke) for _ in range(20)))
    statuses = sorted(r.status for r in responses)
    assert statuses == [401] * TOKEN_CLIENT.free + [429] * (20 - TOKEN_CLIENT.free)
    for response in responses:
        if response.status == 429:
            await slowed(response)


async def test_one_address_trying_many_client_ids_is_slowed_for_every_client(
    client: TestClient, spoke: SpokeUser
) -> None:
    for n in range(TOKEN_ADDRESS.free):
        response = await ask_token(client, {}, basic(f"th_guess_{n}", "secret"))
        await refused(response, 401, "invalid_client")
    await slowed(await ask_token(client, {}, basic("th_guess_next", "secret")))
    # The address waits now, whatever client it names.
    await slowed(await right_secret(client, spoke))


async def test_failed_client_assertions_are_counted_too(
    client: TestClient, conn: asyncpg.Connection, network: Network, settings: Settings
) -> None:
    backend = await backend_client(conn, network, rsa_key(), "k1")
    for _ in range(TOKEN_CLIENT.free):
        expired = client_assertion(
            settings, backend.client_id, rsa_key(), "RS384", kid="k1", exp_in=-600
        )
        await refused(await ask_token(client, assertion_form(expired)), 401, "invalid_client")
    good = client_assertion(settings, backend.client_id, rsa_key(), "RS384", kid="k1")
    await slowed(await ask_token(client, assertion_form(good)))


async def test_a_success_forgets_the_failures_before_it(
    client: TestClient, spoke: SpokeUser
) -> None:
    for _ in range(3):
        for _ in range(TOKEN_CLIENT.free - 1):
            await refused(await wrong_secret(client, spoke), 401, "invalid_client")
        await granted(await right_secret(client, spoke))


async def test_many_good_token_requests_from_one_address_are_never_slowed(
    client: TestClient, network: Network
) -> None:
    spokes = [await network.spoke() for _ in range(3)]
    for _ in range(TOKEN_ADDRESS.free + 5):
        for one in spokes:
            await granted(await right_secret(client, one))


async def test_another_client_is_not_slowed_by_one_clients_failures(
    client: TestClient, network: Network
) -> None:
    careless, careful = await network.spoke(), await network.spoke()
    for _ in range(TOKEN_CLIENT.free):
        await wrong_secret(client, careless)
    await slowed(await wrong_secret(client, careless))
    await granted(await right_secret(client, careful))


async def test_a_valid_client_does_not_wipe_its_addresss_failures(
    client: TestClient, spoke: SpokeUser
) -> None:
    # One good token takes back only its own attempt: the guesses at other clients from the
    # same address still count, so holding one client cannot reset the address limit.
    for n in range(TOKEN_ADDRESS.free - 1):
        await refused(
            await ask_token(client, {}, basic(f"th_other_{n}", "x")), 401, "invalid_client"
        )
    await granted(await right_secret(client, spoke))
    await refused(await ask_token(client, {}, basic("th_other_last", "x")), 401, "invalid_client")
    await slowed(await ask_token(client, {}, basic("th_other_after", "x")))
