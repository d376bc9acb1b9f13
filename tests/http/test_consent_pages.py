"""Recording, showing and revoking a patient's Part 2 consent on the clinic's pages: the form
(multipart, with the signed form), its refusals at their fields with nothing stored, the
release of held notes, the status in words on the patient page, revocation with confirm."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import aiohttp
import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from spokes.store import Patient
from tests.factories import Network, econsult, signed_note
from tests.factories.network import give_consent
from tests.http.spoke_support import NOTE, Clinic

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
TODAY = date(2027, 3, 1)  # the clock's day at a New York clinic
EVERY_BUT_COUNSELING = (
    "econsult_answer",
    "session_note",
    "group_session_note",
    "case_review_recommendation",
)


def consent_form(c: Clinic, **changes: Any) -> list[tuple[str, Any]]:
    """The record form as a person fills it in: a TPO consent to the clinic, until revoked."""
    fields: dict[str, Any] = {
        "kind": "tpo",
        "recipient_spoke_ids": [str(c.spoke.id)],
        "disclose": list(EVERY_BUT_COUNSELING),
        "purpose": "",
        "other_recipients": "",
        "signed_on": "2027-02-26",
        "expires_on": "",
        **changes,
    }
    pairs: list[tuple[str, Any]] = [("csrf_token", c.csrf)]
    for name, value in fields.items():
        pairs += [(name, v) for v in value] if isinstance(value, list) else [(name, value)]
    return pairs


async def record(
    client: TestClient,
    c: Clinic,
    patient: Patient,
    *,
    upload: tuple[str, str, bytes] | None = None,
    **changes: Any,
) -> ClientResponse:
    """Post the record form (multipart, as the browser sends it), not following the redirect."""
    data = aiohttp.FormData()
    for name, value in consent_form(c, **changes):
        data.add_field(name, value)
    if upload is not None:
        filename, content_type, body = upload
        data.add_field("form", io.BytesIO(body), filename=filename, content_type=content_type)
    else:
        data.add_field("form", b"", filename="", content_type="application/octet-stream")
    return await client.post(
        f"/spoke/patients/{patient.id}/consents", data=data, allow_redirects=False
    )


async def consents_of(conn: asyncpg.Connection, patient: Patient) -> list[asyncpg.Record]:
    """The patient's stored consents."""
    return await conn.fetch(
        "SELECT kind, form_name, form_type, expires_on, revoked_at FROM consents"
        " WHERE patient_id = $1 ORDER BY recorded_at",
        patient.id,
    )


async def test_the_form_offers_the_network_with_the_patients_clinic_checked(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    other = await network.spoke()

    page = await (await client.get(f"/spoke/patients/{clinic.patient.id}/consents/new")).text()

    assert f'value="{clinic.spoke.id}" checked> {clinic.spoke.name}' in page
    assert f'value="{other.id}"> Clinic ' in page
    assert 'value="econsult_answer" checked> E-consult answers' in page
    assert 'value="counseling_note"> Counseling notes' in page
    assert 'enctype="multipart/form-data"' in page
    assert 'name="signed_on" type="date" value="2027-03-01"' in page


async def test_recording_releases_the_held_notes_and_says_how_many(
    client: TestClient, network: Network, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    patient = await network.patient(clinic.spoke, family_name="Ashdown", consent=None)
    hub = network.consultant_headers(clinic.consultant.id)
    for _ in range(2):
        asked = await econsult(
            client, clinic.spoke, patient_id=patient.id, service_id=clinic.econsult.id
        )
        await signed_note(client, hub, asked["id"], NOTE)

    response = await record(client, clinic, patient, upload=("consent.pdf", "application/pdf", PDF))

    assert response.status == 303
    assert response.headers["Location"] == f"/spoke/patients/{patient.id}#consent"
    shown = await (await client.get(f"/spoke/patients/{patient.id}")).text()
    assert "Consent recorded. 2 held notes sent to the clinic." in shown
    assert '<span class="tag ok">Active</span>' in shown
    assert "consent.pdf" in shown
    [stored] = await consents_of(conn, patient)
    assert (stored["kind"], stored["form_name"], stored["form_type"]) == (
        "tpo",
        "consent.pdf",
        "application/pdf",
    )
    held = await conn.fetchval(
        "SELECT count(*) FROM outbox WHERE note_id IS NOT NULL AND held_at IS NOT NULL"
    )
    assert held == 0


async def test_an_expiry_before_signing_is_refused_at_its_field_and_nothing_is_stored(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection, network: Network
) -> None:
    patient = await network.patient(clinic.spoke, consent=None)

    response = await record(client, clinic, patient, expires_on="2027-01-01")

    assert response.status == 422
    page = await response.text()
    assert 'id="f-expires_on-error">must not be before signed_on' in page
    assert 'value="2027-01-01"' in page  # what was typed is kept
    assert await consents_of(conn, patient) == []


async def test_each_refusal_names_its_field_and_stores_nothing(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection, network: Network
) -> None:
    patient = await network.patient(clinic.spoke, consent=None)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"disclose": []}, 'id="f-disclose-error">choose at least one'),
        ({"recipient_spoke_ids": []}, 'id="f-recipient_spoke_ids-error">choose at least one'),
        ({"recipient_spoke_ids": ["999999"]}, 'id="f-recipient_spoke_ids-error">'),
        ({"signed_on": "2027-03-09"}, 'id="f-signed_on-error">must not be after today'),
        ({"signed_on": "soon"}, 'id="f-signed_on-error">must be a date'),
        ({"disclose": ["counseling_note"]}, 'id="f-disclose-error">'),
    ]
    for changes, error in cases:
        response = await record(client, clinic, patient, **changes)

        assert response.status == 422, changes
        assert error in await response.text(), changes
    assert await consents_of(conn, patient) == []


async def test_a_signed_form_of_another_type_is_refused_at_its_field(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection, network: Network
) -> None:
    patient = await network.patient(clinic.spoke, consent=None)

    as_text = await record(client, clinic, patient, upload=("consent.txt", "text/plain", b"hi"))
    not_a_pdf = await record(
        client, clinic, patient, upload=("consent.pdf", "application/pdf", b"GIF89a")
    )

    assert as_text.status == not_a_pdf.status == 422
    assert 'id="f-form-error">must be a PDF, PNG or JPEG file' in await as_text.text()
    assert 'id="f-form-error">is not a PDF file' in await not_a_pdf.text()
    assert await consents_of(conn, patient) == []


async def test_the_patient_page_says_the_status_in_words(
    client: TestClient, network: Network, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    nobody = await network.patient(clinic.spoke, family_name="Nobody", consent=None)
    soon = await network.patient(clinic.spoke, family_name="Soon", consent=None)
    await give_consent(conn, soon, expires_on=TODAY + timedelta(days=12))

    none_page = await (await client.get(f"/spoke/patients/{nobody.id}")).text()
    soon_page = await (await client.get(f"/spoke/patients/{soon.id}")).text()
    active_page = await (await client.get(f"/spoke/patients/{clinic.patient.id}")).text()

    assert '<span class="tag overdue">None</span>' in none_page
    assert "No consent on record" in none_page
    assert "Expiring in 12 days" in soon_page
    assert '<span class="tag ok">Active</span>' in active_page
    assert "<dt>Expires</dt><dd>until revoked</dd>" in active_page
    assert f"/spoke/patients/{clinic.patient.id}/disclosures" in active_page


async def test_revoking_from_the_patient_page_asks_first_then_stops_disclosures(
    client: TestClient, network: Network, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    page = await (await client.get(f"/spoke/patients/{clinic.patient.id}")).text()
    [consent_id] = await conn.fetch(
        "SELECT id FROM consents WHERE patient_id = $1", clinic.patient.id
    )
    assert '<summary class="button danger">Revoke…</summary>' in page

    response = await client.post(
        f"/spoke/consents/{consent_id['id']}/revoke",
        data={"csrf_token": clinic.csrf, "revoked_on": "2027-02-28", "how": "written"},
        allow_redirects=False,
    )

    assert response.status == 303
    shown = await (await client.get(f"/spoke/patients/{clinic.patient.id}")).text()
    assert "Consent revoked: nothing more is disclosed under it." in shown
    assert '<span class="tag cancelled">Revoked</span>' in shown
    assert "<dt>Revoked</dt><dd>2027-02-28, in writing</dd>" in shown
    [stored] = await consents_of(conn, clinic.patient)
    assert stored["revoked_at"] is not None


async def test_a_revocation_without_a_date_is_refused_and_changes_nothing(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    [row] = await conn.fetch("SELECT id FROM consents WHERE patient_id = $1", clinic.patient.id)

    response = await client.post(
        f"/spoke/consents/{row['id']}/revoke",
        data={"csrf_token": clinic.csrf, "revoked_on": "", "how": "written"},
        allow_redirects=False,
    )

    assert response.status == 303
    shown = await (await client.get(f"/spoke/patients/{clinic.patient.id}")).text()
    assert "Not revoked. Revoked on: is required" in shown
    [stored] = await consents_of(conn, clinic.patient)
    assert stored["revoked_at"] is None


async def test_another_clinics_consent_cannot_be_revoked(
    client: TestClient, network: Network, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    rival = await network.spoke()
    theirs = await network.patient(rival)
    [row] = await conn.fetch("SELECT id FROM consents WHERE patient_id = $1", theirs.id)

    response = await client.post(
        f"/spoke/consents/{row['id']}/revoke",
        data={"csrf_token": clinic.csrf, "revoked_on": "2027-02-28", "how": "written"},
        allow_redirects=False,
    )

    assert response.status == 404
    [stored] = await consents_of(conn, theirs)
    assert stored["revoked_at"] is None


async def test_the_econsult_form_says_when_the_patient_has_no_consent_and_links_to_record_one(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    patient = await network.patient(clinic.spoke, consent=None)

    without = await client.get("/spoke/econsults/new", params={"patient_id": str(patient.id)})
    with_one = await client.get(
        "/spoke/econsults/new", params={"patient_id": str(clinic.patient.id)}
    )

    page = await without.text()
    assert "This patient has no consent in force that lets the hub's answer reach" in page
    assert "missing: no consent for treatment, payment and operations in force" in page
    assert f"/spoke/patients/{patient.id}/consents/new" in page
    assert 'id="consent-gap"' not in await with_one.text()


async def upload_form(
    client: TestClient, c: Clinic, consent_id: object, filename: str, content_type: str, body: bytes
) -> ClientResponse:
    """Post the patient page's upload form for a consent recorded without its signed form."""
    data = aiohttp.FormData()
    data.add_field("csrf_token", c.csrf)
    data.add_field("form", body, filename=filename, content_type=content_type)
    return await client.post(f"/spoke/consents/{consent_id}/form", data=data, allow_redirects=False)


async def test_the_signed_form_is_uploaded_later_and_downloaded_by_the_clinic_only(
    client: TestClient, network: Network, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    consent_id = await conn.fetchval(
        "SELECT id FROM consents WHERE patient_id = $1", clinic.patient.id
    )
    page = await (await client.get(f"/spoke/patients/{clinic.patient.id}")).text()
    assert "Upload the signed form" in page

    refused = await upload_form(client, clinic, consent_id, "x.png", "image/png", b"not a png")
    assert (
        "Not attached. Signed form: is not a PNG file"
        in await (await client.get(f"/spoke/patients/{clinic.patient.id}")).text()
    )
    attached = await upload_form(client, clinic, consent_id, "form.pdf", "application/pdf", PDF)
    shown = await (await client.get(f"/spoke/patients/{clinic.patient.id}")).text()
    download = await client.get(f"/spoke/consents/{consent_id}/form")

    assert refused.status == attached.status == 303
    assert "Signed form attached to the consent." in shown
    assert f'href="/spoke/consents/{consent_id}/form" download>form.pdf</a>' in shown
    assert download.status == 200 and await download.read() == PDF
    assert download.headers["Content-Disposition"] == 'attachment; filename="form.pdf"'
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    rival = await network.spoke()
    theirs = await network.patient(rival)
    their_consent = await conn.fetchval("SELECT id FROM consents WHERE patient_id = $1", theirs.id)
    assert (await client.get(f"/spoke/consents/{their_consent}/form")).status == 404


async def test_a_signed_form_of_a_few_megabytes_is_kept_and_one_over_5_mb_refused(
    client: TestClient, network: Network, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    kept_for = await network.patient(clinic.spoke, consent=None)
    refused_for = await network.patient(clinic.spoke, consent=None)
    large = PDF + b"0" * (3 * 1024 * 1024)
    too_large = PDF + b"0" * (5 * 1024 * 1024)

    kept = await record(client, clinic, kept_for, upload=("big.pdf", "application/pdf", large))
    refused = await record(
        client, clinic, refused_for, upload=("huge.pdf", "application/pdf", too_large)
    )

    assert kept.status == 303
    size = await conn.fetchval(
        "SELECT octet_length(form) FROM consents WHERE patient_id = $1", kept_for.id
    )
    assert size == len(large)
    assert refused.status == 413
    assert "must be at most 5 MB" in await refused.text()
    assert await consents_of(conn, refused_for) == []
