"""Drives every consents and accounting operation once, for the OpenAPI contract test
(tests/http/test_response_schemas.py), which checks each answer against the document.

`cover_consents` records the patient's consent before the contract test signs notes for
them (their notes then go to the clinic under it, rather than being held), reads it, keeps
its signed form and revokes a second, narrower one; `cover_disclosures` reads the accounting
after the clinic has read a note through the API, as JSON and as CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.factories import Network

# The smallest file the form check takes for a PDF: its magic bytes, then anything.
PDF = b"%PDF-1.7\n% signed consent form (contract test)\n%%EOF\n"


async def cover_consents(
    api: Any, network: Network, clinic: dict[str, str], patient: dict[str, Any]
) -> dict[str, Any]:
    """Record a tpo consent for `patient` (clinic's headers), list, read, upload and download
    its form; record a specific consent and revoke it. Returns the tpo consent."""
    ids = {"id": patient["id"]}
    consent = await api.call(
        "POST",
        "/api/v1/patients/{id}/consents",
        {**clinic, "Idempotency-Key": "contract-consent"},
        status=201,
        ids=ids,
        json={"kind": "tpo", "signed_on": "2027-02-01", "expires_on": None},
    )
    assert consent["status"] == "active" and consent["released"] == 0
    listed = await api.call("GET", "/api/v1/patients/{id}/consents", clinic, status=200, ids=ids)
    assert [c["id"] for c in listed["consents"]] == [consent["id"]]
    await api.call("GET", "/api/v1/consents/{id}", clinic, status=200, ids=consent)
    with_form = await api.call(
        "PUT",
        "/api/v1/consents/{id}/form",
        {
            **clinic,
            "Content-Type": "application/pdf",
            "Content-Disposition": 'attachment; filename="consent.pdf"',
        },
        status=200,
        ids=consent,
        data=PDF,
    )
    assert with_form["form"] == {
        "content_type": "application/pdf",
        "name": "consent.pdf",
        "size": len(PDF),
    }
    form = await api.call("GET", "/api/v1/consents/{id}/form", clinic, status=200, ids=consent)
    assert form == PDF

    narrow = await api.call(
        "POST",
        "/api/v1/patients/{id}/consents",
        {**clinic, "Idempotency-Key": "contract-consent-specific"},
        status=201,
        ids=ids,
        json={
            "kind": "specific",
            "other_recipients": ["Green Mountain Recovery Housing"],
            "disclose": ["econsult_answer"],
            "purpose": "Coordinate recovery housing",
            "signed_on": "2027-02-10",
            "expires_on": "2027-08-10",
        },
    )
    revoked = await api.call(
        "POST",
        "/api/v1/consents/{id}/revoke",
        clinic,
        status=200,
        ids=narrow,
        json={"revoked_on": "2027-02-20", "how": "written"},
    )
    assert revoked["status"] == "revoked" and revoked["revoked_how"] == "written"
    return dict(consent)


async def cover_disclosures(
    api: Any, network: Network, clinic: dict[str, str], patient: dict[str, Any]
) -> None:
    """The patient's accounting after the clinic read a note through the API: JSON for the
    clinic and the hub (with `since`), and the same rows as CSV."""
    ids = {"id": patient["id"]}
    found = await api.call("GET", "/api/v1/patients/{id}/disclosures", clinic, status=200, ids=ids)
    channels = {d["channel"] for d in found["disclosures"]}
    assert "api" in channels, found
    hub = await api.call(
        "GET",
        "/api/v1/patients/{id}/disclosures",
        network.hub_admin_headers(),
        status=200,
        ids=ids,
        params={"since": "2024-06-01"},
    )
    assert len(hub["disclosures"]) == len(found["disclosures"])
    # The CSV answer: the same operation negotiated by Accept, as the document says.
    as_csv = await api.call(
        "GET",
        "/api/v1/patients/{id}/disclosures",
        {**clinic, "Accept": "text/csv"},
        status=200,
        ids=ids,
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.decode())))
    assert [r["note_id"] for r in rows] == [d["note_id"] for d in found["disclosures"]]
