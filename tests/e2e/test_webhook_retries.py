"""A receiver that is down, failing or hanging gets the note later, retried with growing
gaps under one webhook id; after an outage one success drains the clinic's other events."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest

from tests.e2e.processes import free_port
from tests.e2e.webhook_lab import BASE, TIMEOUT, Hub, Lab, server_events, until

pytestmark = pytest.mark.slow


async def test_a_note_signed_while_the_receiver_is_down_arrives_once_it_is_up_under_one_id(
    lab: Lab,
) -> None:
    hub = await lab.hub()
    port = free_port()  # nobody listens here until the receiver starts
    secret = (await hub.set_webhook(f"http://127.0.0.1:{port}/hook"))["secret"]
    await hub.answer(await hub.ask(), "Assessment")

    async def failed_twice() -> dict[str, Any] | None:
        [delivery] = await hub.deliveries()
        logged = len(server_events(hub.server, "webhook.failed"))
        tried = delivery["attempts"] >= 2 and delivery["last_error"] and logged >= 2
        return delivery if tried else None

    before = await until(failed_twice)
    assert before["state"] == "pending"
    assert f"127.0.0.1:{port}" in before["last_error"], before["last_error"]
    # Trusting from the start: the next attempt may come before the receiver is seen ready.
    receiver = await lab.receiver(port=port, secret=secret)

    [delivery] = await until(lambda: hub.all_delivered(1))
    [arrival] = receiver.arrivals()

    assert arrival["verified"], arrival["error"]
    assert arrival["headers"]["webhook-id"] == before["webhook_id"] == delivery["webhook_id"]
    assert delivery["attempts"] > before["attempts"] >= 2
    failed = server_events(hub.server, "webhook.failed")
    assert {e["delivery"] for e in failed} == {delivery["id"]}  # every attempt: this event
    assert delivery["last_status"] == 204
    assert delivery["last_error"] is None


@pytest.mark.parametrize(
    ("flags", "failure", "error", "stall"),
    [
        (("--fail-first", "3"), 500, "HTTP 500", 0.0),
        (("--hang-first", "3"), "hang", f"no answer within {TIMEOUT:g} s", TIMEOUT),
    ],
    ids=["answering-500", "hanging-past-the-timeout"],
)
async def test_a_failing_receiver_is_retried_with_growing_gaps_under_one_id_until_delivered(
    lab: Lab, flags: tuple[str, ...], failure: int | str, error: str, stall: float
) -> None:
    hub = await lab.hub()
    receiver = await lab.receiver(*flags)
    receiver.trust((await hub.set_webhook(receiver.url))["secret"])
    await hub.answer(await hub.ask(), "Assessment")

    [failing] = await until(lambda: _with_error(hub))
    [delivery] = await until(lambda: hub.all_delivered(1))
    arrivals = receiver.arrivals()

    assert failing["state"] == "pending"
    assert failing["last_error"] == error
    assert [a["answer"] for a in arrivals] == [failure, failure, failure, 204]
    assert {a["headers"]["webhook-id"] for a in arrivals} == {delivery["webhook_id"]}
    assert all(a["verified"] for a in arrivals)
    assert delivery["attempts"] == 4
    times = [a["time"] for a in arrivals]
    gaps = [later - earlier for earlier, later in pairwise(times)]
    # After failure n the retry waits at least half of base * 2^(n-1) (jitter is 50-100 %),
    # after the sender's timeout when the receiver hung; a little slack for the clocks.
    floors = [stall + BASE * 2 ** (n - 1) * 0.5 - 0.05 for n in (1, 2, 3)]
    assert all(gap >= floor for gap, floor in zip(gaps, floors, strict=True)), (gaps, floors)
    # Adjacent jittered ranges touch; two steps apart they cannot overlap: the wait grew.
    assert gaps[2] > gaps[0], gaps
    # Each attempt is stamped (and signed) anew: retries outlive the receivers' tolerance.
    stamps = [int(a["headers"]["webhook-timestamp"]) for a in arrivals]
    assert all(abs(stamp - a["time"]) < 2 for stamp, a in zip(stamps, arrivals, strict=True))
    assert stamps == sorted(stamps)


async def _with_error(hub: Hub) -> list[dict[str, Any]] | None:
    found = await hub.deliveries()
    return found if any(d["last_error"] for d in found) else None


async def test_after_an_outage_one_success_drains_the_clinics_other_events_at_once(
    lab: Lab,
) -> None:
    # Backoff long enough that, without the drain, the other events would still be waiting
    # out their own (a minute at least) when this test gives up waiting.
    hub = await lab.hub(
        {"TELEHUB_WEBHOOK_BACKOFF_BASE": "120", "TELEHUB_WEBHOOK_BACKOFF_MAX": "600"}
    )
    port = free_port()  # the clinic's endpoint is down: nobody listens here yet
    secret = (await hub.set_webhook(f"http://127.0.0.1:{port}/hook"))["secret"]
    for _ in range(3):
        await hub.answer(await hub.ask(), "Assessment")

    async def all_failed_once() -> list[dict[str, Any]] | None:
        found = await hub.deliveries()
        tried = len(found) == 3 and all(d["attempts"] == 1 and d["last_error"] for d in found)
        return found if tried else None

    waiting = {d["id"]: d for d in await until(all_failed_once)}
    receiver = await lab.receiver(port=port)
    receiver.trust(secret)
    first, *others = sorted(waiting)
    # The hub retries one by hand; its success is what releases the others.
    path = f"/api/v1/deliveries/{first}/retry"
    await hub.call("POST", path, hub.network.hub_admin_headers())
    delivered = {d["id"]: d for d in await until(lambda: hub.all_delivered(3))}
    arrivals = receiver.arrivals()

    assert len(arrivals) == 3 and all(a["verified"] for a in arrivals)
    assert {a["headers"]["webhook-id"] for a in arrivals} == {
        d["webhook_id"] for d in delivered.values()
    }
    assert arrivals[0]["headers"]["webhook-id"] == delivered[first]["webhook_id"]
    for other in others:
        # Sent before its own backoff ran out, on its second attempt: released, not retried.
        sent = datetime.fromisoformat(delivered[other]["delivered_at"])
        assert sent < datetime.fromisoformat(waiting[other]["next_attempt_at"])
        assert delivered[other]["attempts"] == 2
    released = server_events(hub.server, "webhook.delivered")[0]
    assert released["delivery"] == first and released["released"] == 2
