"""The consents API: recording (defaults and every refusal), listing with status, revoking,
tenancy and audit. (The signed form: test_consents_form.py.)"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from spokes.store import Patient
from tests.factories import Clock, Network, SpokeUser


@dataclass
class Patients:
    """A clinic with a patient, another clinic with one, and the hub's headers."""

    spoke: SpokeUser
    patient: Patient
    other: SpokeUser
    stranger: Patient
    hub: dict[str, str]


async def patients(network: Network) -> Patients:
    """Two clinics (New York), a patient of each, and a hub admin."""
    spoke, other = await network.spoke(), await network.spoke()
    return Patients(
        spoke,
        await network.patient(spoke, consent=None),
        other,
        await network.patient(other, consent=None),
        network.hub_admin_headers(),
    )


async def record(
    client: TestClient, headers: dict[str, str], patient_id: object, **body: Any
) -> Any:
    """Record a consent through the API (asserting 201); the consent as answered."""
    body.setdefault("kind", "tpo")
    body.setdefault("signed_on", "2027-02-15")
    response = await client.post(
        f"/api/v1/patients/{patient_id}/consents", json=body, headers=headers
    )
    assert response.status == 201, await response.text()
    return await response.json()


async def stored(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    """Every consent row, form bytes as their size."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT *, octet_length(form) AS form_size FROM consents ORDER BY recorded_at, id"
        )
    return [{k: v for k, v in dict(r).items() if k != "form"} for r in rows]


async def audit_rows(pool: asyncpg.Pool, record_id: object) -> list[tuple[str, str]]:
    """(actor, action) of the audit rows of one consent, oldest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT actor, action FROM audit_log WHERE record_type = 'consent'"
            " AND record_id = $1 ORDER BY id",
            str(record_id),
        )
    return [(r["actor"], r["action"]) for r in rows]


def fields(problem: Any) -> list[str]:
    """The fields a problem names."""
    return [e["field"] for e in problem.get("errors", [])]


# ---- recording -------------------------------------------------------------------------


async def test_a_tpo_consent_is_recorded_with_its_defaults_listed_read_and_audited(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    p = await patients(network)
    response = await client.post(
        f"/api/v1/patients/{p.patient.id}/consents",
        json={"kind": "tpo", "signed_on": "2027-02-15"},
        headers=p.spoke.headers,
    )
    assert response.status == 201, await response.text()
    made = await response.json()
    assert response.headers["Location"] == f"/api/v1/consents/{made['id']}"
    assert made["recipient_spoke_ids"] == [p.spoke.id]
    assert made["other_recipients"] == []
    assert made["disclose"] == [
        "econsult_answer",
        "session_note",
        "group_session_note",
        "case_review_recommendation",
    ]
    assert made["purpose"] == "Treatment, payment and health care operations"
    assert made["expires_on"] is None and made["status"] == "active"
    assert made["released"] == 0 and made["form"] is None
    assert made["recorded_by"] == f"client:{p.spoke.client_id}"

    listed = await client.get(f"/api/v1/patients/{p.patient.id}/consents", headers=p.spoke.headers)
    assert listed.status == 200
    body = await listed.json()
    assert body["status"] == "active"
    assert [c["id"] for c in body["consents"]] == [made["id"]]
    one = await client.get(f"/api/v1/consents/{made['id']}", headers=p.spoke.headers)
    assert one.status == 200 and (await one.json())["kind"] == "tpo"

    actor = f"client:{p.spoke.client_id}"
    assert await audit_rows(pool, made["id"]) == [
        (actor, "create"),
        (actor, "read"),
        (actor, "read"),
    ]


async def test_a_specific_consent_keeps_its_recipients_purpose_and_expiry(
    client: TestClient, network: Network
) -> None:
    p = await patients(network)
    made = await record(
        client,
        p.spoke.headers,
        p.patient.id,
        kind="specific",
        recipient_spoke_ids=[p.spoke.id, p.other.id, p.spoke.id],
        other_recipients=["  Valley Recovery Center "],
        disclose=["econsult_answer"],
        purpose="Coordinate methadone dosing",
        expires_on="2027-03-20",
    )
    assert made["recipient_spoke_ids"] == [p.spoke.id, p.other.id]
    assert made["other_recipients"] == ["Valley Recovery Center"]
    assert made["disclose"] == ["econsult_answer"]
    assert made["purpose"] == "Coordinate methadone dosing"
    assert made["expires_on"] == "2027-03-20" and made["status"] == "expiring"


async def test_a_counseling_notes_consent_covers_counseling_notes_only_by_default(
    client: TestClient, network: Network
) -> None:
    p = await patients(network)
    made = await record(
        client,
        p.spoke.headers,
        p.patient.id,
        kind="counseling_notes",
        purpose="Share counseling notes with my primary care clinic",
    )
    assert made["disclose"] == ["counseling_note"]


async def test_the_hub_records_and_reads_any_clinics_patients_consents(
    client: TestClient, network: Network
) -> None:
    p = await patients(network)
    made = await record(client, p.hub, p.patient.id)
    assert made["spoke_id"] == p.spoke.id and made["recorded_by"] == "client:hub-test"
    listed = await client.get(f"/api/v1/patients/{p.patient.id}/consents", headers=p.hub)
    assert [c["id"] for c in (await listed.json())["consents"]] == [made["id"]]
    # The clinic sees what the hub recorded for its patient.
    mine = await client.get(f"/api/v1/consents/{made['id']}", headers=p.spoke.headers)
    assert mine.status == 200


async def test_a_retried_record_with_its_key_records_one_consent(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    p = await patients(network)
    headers = {**p.spoke.headers, "Idempotency-Key": "consent-1"}
    url = f"/api/v1/patients/{p.patient.id}/consents"
    body = {"kind": "tpo", "signed_on": "2027-02-15"}
    first = await client.post(url, json=body, headers=headers)
    again = await client.post(url, json=body, headers=headers)
    assert first.status == again.status == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await first.json())["id"] == (await again.json())["id"]
    assert len(await stored(pool)) == 1


# ---- refusals --------------------------------------------------------------------------

REFUSALS = [
    ({"expires_on": "2027-02-14"}, "expires_on", "before signed_on"),
    ({"recipient_spoke_ids": ["OWN", 999999]}, "recipient_spoke_ids.1", "not a clinic"),
    ({"other_recipients": ["   "]}, "other_recipients.0", "1 to 200"),
    ({"other_recipients": ["Ok", "x" * 201]}, "other_recipients.1", "1 to 200"),
    (
        {"disclose": ["econsult_answer", "counseling_note"]},
        "disclose",
        "counseling notes need their own consent",
    ),
    (
        {"kind": "specific", "disclose": ["counseling_note"], "purpose": "Research"},
        "disclose",
        "counseling notes need their own consent",
    ),
    (
        {"kind": "counseling_notes", "disclose": ["counseling_note", "session_note"]},
        "disclose",
        "counseling notes only",
    ),
    ({"signed_on": "2027-03-02"}, "signed_on", "after today"),
    ({"kind": "specific"}, "purpose", "required"),
    ({"kind": "everything"}, "kind", ""),
    ({"disclose": ["billing"]}, "disclose.0", ""),
    ({"signed_on": "yesterday"}, "signed_on", ""),
]


@pytest.mark.parametrize(("change", "field", "words"), REFUSALS)
async def test_a_bad_consent_is_refused_naming_its_field_and_nothing_is_stored(
    client: TestClient,
    network: Network,
    pool: asyncpg.Pool,
    change: dict[str, Any],
    field: str,
    words: str,
) -> None:
    p = await patients(network)
    body: dict[str, Any] = {"kind": "tpo", "signed_on": "2027-02-15", **change}
    if "recipient_spoke_ids" in change:
        body["recipient_spoke_ids"] = [
            p.spoke.id if r == "OWN" else r for r in change["recipient_spoke_ids"]
        ]
    response = await client.post(
        f"/api/v1/patients/{p.patient.id}/consents", json=body, headers=p.spoke.headers
    )
    assert response.status == 422, await response.text()
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    assert field in fields(problem)
    detail = next(e["detail"] for e in problem["errors"] if e["field"] == field)
    assert words in detail
    assert await stored(pool) == []


async def test_signed_today_is_judged_by_the_clinics_own_date(
    client: TestClient, network: Network, clock: Clock
) -> None:
    # 02:00 UTC on 2 March: still 1 March in New York, already 2 March in Tokyo.
    clock.now = datetime(2027, 3, 2, 2, 0, tzinfo=UTC)
    new_york = await network.spoke(timezone="America/New_York")
    tokyo = await network.spoke(timezone="Asia/Tokyo")
    in_ny, in_tokyo = (
        await network.patient(new_york, consent=None),
        await network.patient(tokyo, consent=None),
    )
    body = {"kind": "tpo", "signed_on": "2027-03-02"}
    refused = await client.post(
        f"/api/v1/patients/{in_ny.id}/consents", json=body, headers=new_york.headers
    )
    assert refused.status == 422 and fields(await refused.json()) == ["signed_on"]
    await record(client, tokyo.headers, in_tokyo.id, **body)


# ---- revocation ------------------------------------------------------------------------


async def test_a_revocation_is_recorded_once_and_the_consent_is_kept(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    p = await patients(network)
    made = await record(client, p.spoke.headers, p.patient.id)
    url = f"/api/v1/consents/{made['id']}/revoke"
    response = await client.post(
        url, json={"revoked_on": "2027-02-28", "how": "verbal"}, headers=p.spoke.headers
    )
    assert response.status == 200, await response.text()
    revoked = await response.json()
    assert revoked["status"] == "revoked" and revoked["held"] == 0
    assert revoked["revoked_on"] == "2027-02-28" and revoked["revoked_how"] == "verbal"
    assert revoked["revoked_at"] == "2027-03-01T15:00:00Z"
    assert revoked["revoked_by"] == f"client:{p.spoke.client_id}"

    again = await client.post(
        url, json={"revoked_on": "2027-03-01", "how": "written"}, headers=p.spoke.headers
    )
    assert again.status == 409
    [row] = await stored(pool)
    assert row["revoked_how"] == "verbal" and row["revoked_on"] == date(2027, 2, 28)
    listed = await client.get(f"/api/v1/patients/{p.patient.id}/consents", headers=p.spoke.headers)
    assert (await listed.json())["status"] == "revoked"
    actions = [a for _, a in await audit_rows(pool, made["id"])]
    assert actions.count("update") == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"revoked_on": "2027-03-02", "how": "written"}, "revoked_on"),
        ({"revoked_on": "2027-02-14", "how": "written"}, "revoked_on"),
        ({"revoked_on": "2027-02-20", "how": "by pigeon"}, "how"),
        ({"how": "written"}, "revoked_on"),
    ],
)
async def test_a_bad_revocation_is_refused_naming_its_field_and_changes_nothing(
    client: TestClient,
    network: Network,
    pool: asyncpg.Pool,
    body: dict[str, Any],
    field: str,
) -> None:
    p = await patients(network)
    made = await record(client, p.spoke.headers, p.patient.id)
    response = await client.post(
        f"/api/v1/consents/{made['id']}/revoke", json=body, headers=p.spoke.headers
    )
    assert response.status == 422, await response.text()
    assert fields(await response.json()) == [field]
    [row] = await stored(pool)
    assert row["revoked_at"] is None and row["revoked_on"] is None


# ---- tenancy ---------------------------------------------------------------------------


async def test_another_clinics_patient_and_consent_are_not_found_everywhere(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    p = await patients(network)
    made = await record(client, p.spoke.headers, p.patient.id)
    theirs = p.other.headers
    asks = [
        client.post(
            f"/api/v1/patients/{p.patient.id}/consents",
            json={"kind": "tpo", "signed_on": "2027-02-15"},
            headers=theirs,
        ),
        client.get(f"/api/v1/patients/{p.patient.id}/consents", headers=theirs),
        client.get(f"/api/v1/consents/{made['id']}", headers=theirs),
        client.post(
            f"/api/v1/consents/{made['id']}/revoke",
            json={"revoked_on": "2027-02-28", "how": "written"},
            headers=theirs,
        ),
        client.put(
            f"/api/v1/consents/{made['id']}/form",
            data=b"%PDF-1.7 signed",
            headers={**theirs, "Content-Type": "application/pdf"},
        ),
        client.get(f"/api/v1/consents/{made['id']}/form", headers=theirs),
        client.get(f"/api/v1/patients/{uuid.uuid4()}/consents", headers=p.spoke.headers),
        client.get(f"/api/v1/consents/{uuid.uuid4()}", headers=p.spoke.headers),
        client.get("/api/v1/consents/not-a-uuid", headers=p.spoke.headers),
    ]
    for ask in asks:
        response = await ask
        assert response.status == 404, (response.url, await response.text())
    [row] = await stored(pool)
    assert row["revoked_at"] is None and row["form_size"] is None
    # Only the clinic's own reads were audited: nothing for the other clinic's attempts.
    async with pool.acquire() as conn:
        assert not await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE actor = $1", f"client:{p.other.client_id}"
        )


async def test_a_consultant_cannot_read_or_record_consents(
    client: TestClient, network: Network
) -> None:
    p = await patients(network)
    service = await network.service()
    consultant = await network.consultant([service])
    headers = network.consultant_headers(consultant.id)
    listed = await client.get(f"/api/v1/patients/{p.patient.id}/consents", headers=headers)
    assert listed.status == 403
    made = await client.post(
        f"/api/v1/patients/{p.patient.id}/consents",
        json={"kind": "tpo", "signed_on": "2027-02-15"},
        headers=headers,
    )
    assert made.status == 403
