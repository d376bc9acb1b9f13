"""Signed notes reach the clinic's webhook signed with its secret, thin unless it opted in;
an amendment arrives as version 2; 410 Gone disables the webhook until it is set again."""

from __future__ import annotations

from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from consults.delivery import new_webhook_secret
from tests.e2e.webhook_lab import BASE_URL, THIN_DATA, Hub, Lab, body_of, holds, until

pytestmark = pytest.mark.slow


async def test_a_signed_note_arrives_signed_with_the_spokes_secret_and_thin_unless_opted_in(
    lab: Lab,
) -> None:
    hub = await lab.hub()
    receiver = await lab.receiver()
    issued = await hub.set_webhook(receiver.url)
    secret = issued["secret"]
    assert secret.startswith("whsec_")
    receiver.trust(secret)

    econsult = await hub.ask()
    note = await hub.answer(econsult, "Thin-form assessment that stays at the hub")
    [thin] = await receiver.wait_for(1)

    assert thin["verified"], thin["error"]
    assert thin["headers"]["webhook-id"].startswith("msg_")
    assert Webhook(secret).verify(thin["body"], thin["headers"]) == body_of(thin)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(thin["body"], thin["headers"])
    event = body_of(thin)
    assert set(event) == {"type", "timestamp", "data"}
    assert event["type"] == "note.signed"
    assert set(event["data"]) == THIN_DATA
    assert event["data"]["note_id"] == note["id"]
    assert event["data"]["version"] == 1
    assert event["data"]["spoke_id"] == hub.spoke.id
    assert event["data"]["patient_id"] == hub.patient_id
    assert event["data"]["econsult_id"] == econsult["id"]
    assert event["data"]["booking_id"] is None
    assert event["data"]["links"]["note"] == f"{BASE_URL}/api/v1/notes/{note['id']}"
    for private in ("Thin-form assessment", "buprenorphine", "Zzyzx", "Given", "MRN-"):
        assert private not in thin["body"]

    again = await hub.set_webhook(receiver.url, full_payload=True)
    assert again["secret"] is None  # shown once: the clinic keeps the first one
    full_note = await hub.answer(await hub.ask(), "Full-form assessment the clinic asked for")
    full = (await receiver.wait_for(2))[1]

    assert full["verified"], full["error"]
    assert Webhook(secret).verify(full["body"], full["headers"])
    assert full["headers"]["webhook-id"].startswith("msg_")
    assert full["headers"]["webhook-id"] != thin["headers"]["webhook-id"]
    data = body_of(full)["data"]
    assert set(data) == {*THIN_DATA, "note"}
    assert data["note"]["sections"] == full_note["sections"]
    assert data["note"]["sections"]["assessment"] == "Full-form assessment the clinic asked for"
    assert data["note"]["consultant_id"] == full_note["consultant_id"]


async def test_an_amendment_arrives_as_note_amended_version_2_under_a_new_webhook_id(
    lab: Lab,
) -> None:
    hub = await lab.hub()
    receiver = await lab.receiver()
    receiver.trust((await hub.set_webhook(receiver.url))["secret"])
    econsult = await hub.ask()

    original = await hub.answer(econsult, "First assessment")
    await receiver.wait_for(1)
    amended = await hub.answer(econsult, "Amended assessment")
    signed, amendment = await receiver.wait_for(2)

    assert amended["version"] == 2
    assert signed["verified"] and amendment["verified"]
    assert body_of(signed)["type"] == "note.signed"
    assert body_of(signed)["data"]["version"] == 1
    assert body_of(signed)["data"]["note_id"] == original["id"]
    assert body_of(amendment)["type"] == "note.amended"
    assert body_of(amendment)["data"]["version"] == 2
    assert body_of(amendment)["data"]["note_id"] == amended["id"]
    assert body_of(amendment)["data"]["econsult_id"] == econsult["id"]
    assert signed["headers"]["webhook-id"] != amendment["headers"]["webhook-id"]
    assert await until(lambda: hub.all_delivered(2))


async def test_410_gone_disables_the_webhook_until_it_is_set_again_then_the_note_arrives(
    lab: Lab,
) -> None:
    hub = await lab.hub()
    receiver = await lab.receiver("--status-first", "1", "--status", "410")
    receiver.trust((await hub.set_webhook(receiver.url))["secret"])
    await hub.answer(await hub.ask(), "Assessment")

    [gone] = await receiver.wait_for(1)
    disabled = await until(lambda: _disabled(hub))
    [held] = await hub.deliveries()

    assert gone["answer"] == 410
    assert disabled["disabled_reason"] == "410 Gone"
    assert held["state"] == "pending"
    assert held["last_status"] == 410
    # Were it still enabled, the retry would come within BASE seconds and a poll.
    await holds(lambda: len(receiver.arrivals()) == 1, seconds=2.0)

    again = await hub.set_webhook(receiver.url)
    assert again["disabled_at"] is None
    assert (await hub.webhook())["disabled_at"] is None
    [delivery] = await until(lambda: hub.all_delivered(1))
    first, second = receiver.arrivals()

    assert second["answer"] == 204
    assert second["verified"], second["error"]
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]
    assert second["headers"]["webhook-id"] == delivery["webhook_id"] == held["webhook_id"]


async def _disabled(hub: Hub) -> dict[str, Any] | None:
    webhook = await hub.webhook()
    return webhook if webhook["disabled_at"] else None
