"""A note signed through one process is delivered by another process's worker, woken by the
database's notification: both poll only every ten minutes, and the signing process has no
worker at all, so nothing else can explain the delivery."""

from __future__ import annotations

import pytest

from tests.e2e.webhook_lab import Lab, body_of, server_events, until

pytestmark = pytest.mark.slow
NEVER = {"TELEHUB_OUTBOX_POLL": "600"}  # longer than the test could ever wait
PATIENCE = 30.0  # generous: it ends at the delivery, which only a notification can bring


async def test_a_note_signed_through_one_process_is_delivered_by_the_others_worker_at_once(
    lab: Lab,
) -> None:
    signer = await lab.hub({**NEVER, "TELEHUB_DELIVERY_WORKERS": "false"})
    deliverer = await lab.server(NEVER)
    # Its worker listens, has looked once (finding nothing), and now sleeps on the poll.
    await until(lambda: server_events(deliverer, "webhook.listening"), PATIENCE)
    receiver = await lab.receiver()
    receiver.trust((await signer.set_webhook(receiver.url))["secret"])

    econsults = [await signer.ask() for _ in range(2)]
    for econsult in econsults:  # one after the other: each wakes the sleeping worker again
        note = await signer.answer(econsult, "Assessment")
        arrival = (await receiver.wait_for(econsults.index(econsult) + 1, PATIENCE))[-1]
        assert arrival["verified"], arrival["error"]
        assert body_of(arrival)["data"]["note_id"] == note["id"]

    assert len(server_events(deliverer, "webhook.delivered")) == 2
    assert server_events(signer.server, "webhook.delivered") == []
    assert server_events(signer.server, "webhook.listening") == []  # it has no worker to wake
