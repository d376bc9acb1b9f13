"""A consent's signed form: uploaded as raw bytes (PDF, PNG or JPEG, checked by its first
bytes, at most 5 MB, read as a stream past the app's small body limit), kept in PostgreSQL,
served back as an attachment to the patient's clinic and the hub only."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from spokes import consents
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.errors import ValidationFailed
from tests.factories import Network
from tests.http.test_consents_api import audit_rows, fields, patients, record, stored

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
FIVE_MB = 5 * 1024 * 1024


async def _put(
    client: TestClient, headers: dict[str, str], consent_id: str, data: Any, kind: str, **extra: str
) -> Any:
    return await client.put(
        f"/api/v1/consents/{consent_id}/form",
        data=data,
        headers={**headers, "Content-Type": kind, **extra},
    )


@pytest.mark.parametrize(
    ("kind", "data"), [("application/pdf", PDF), ("image/png", PNG), ("image/jpeg", JPEG)]
)
async def test_a_signed_form_is_kept_and_served_back_as_an_attachment(
    client: TestClient, network: Network, pool: asyncpg.Pool, kind: str, data: bytes
) -> None:
    p = await patients(network)
    made = await record(client, p.spoke.headers, p.patient.id)
    response = await _put(
        client,
        p.spoke.headers,
        made["id"],
        data,
        kind,
        **{"Content-Disposition": 'attachment; filename="C:\\\\scans\\\\signed consent.bin"'},
    )
    assert response.status == 200, await response.text()
    answered = await response.json()
    assert answered["form"] == {
        "content_type": kind,
        "name": "signed consent.bin",
        "size": len(data),
    }

    for headers in (p.spoke.headers, p.hub):
        got = await client.get(f"/api/v1/consents/{made['id']}/form", headers=headers)
        assert got.status == 200
        assert await got.read() == data
        assert got.content_type == kind
        assert got.headers["Content-Disposition"].startswith(
            'attachment; filename="signed consent.bin"'
        )
        assert got.headers["X-Content-Type-Options"] == "nosniff"
        assert got.headers["Cache-Control"] == "no-store"
    actions = [a for _, a in await audit_rows(pool, made["id"])]
    assert actions == ["create", "update", "read", "read"]


async def test_a_form_bigger_than_five_megabytes_is_refused_and_nothing_is_stored(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    p = await patients(network)
    made = await record(client, p.spoke.headers, p.patient.id)
    # Exactly 5 MB is accepted elsewhere; one byte more, with its length declared, is refused.
    over = PDF + b"0" * (FIVE_MB + 1 - len(PDF))
    response = await _put(
        client,
        p.spoke.headers,
        made["id"],
        io.BytesIO(over),
        "application/pdf",
        **{"Content-Length": str(len(over))},
    )
    assert response.status == 413
    assert fields(await response.json()) == ["form"]

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: the stream is counted
        yield PDF
        for _ in range(6):
            yield b"0" * (1024 * 1024)

    response = await _put(client, p.spoke.headers, made["id"], chunked(), "application/pdf")
    assert response.status == 413
    assert fields(await response.json()) == ["form"]
    [row] = await stored(pool)
    assert row["form_size"] is None and row["form_type"] is None


async def test_a_form_of_exactly_five_megabytes_is_accepted(
    client: TestClient, network: Network
) -> None:
    p = await patients(network)
    made = await record(client, p.spoke.headers, p.patient.id)
    exact = PDF + b"0" * (FIVE_MB - len(PDF))
    response = await _put(client, p.spoke.headers, made["id"], io.BytesIO(exact), "application/pdf")
    assert response.status == 200, await response.text()
    assert (await response.json())["form"]["size"] == FIVE_MB
    assert (await response.json())["form"]["name"] == "signed-consent.pdf"


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("text/plain", b"I consent"),
        ("image/gif", b"GIF89a" + b"\x00" * 16),
        ("image/png", PDF),  # says PNG, is a PDF
        ("application/pdf", JPEG),
        ("image/jpeg", b"<html>not a photo</html>"),
        ("application/pdf", b""),
    ],
)
async def test_a_form_of_another_type_or_whose_bytes_disagree_is_refused(
    client: TestClient, network: Network, pool: asyncpg.Pool, kind: str, data: bytes
) -> None:
    p = await patients(network)
    made = await record(client, p.spoke.headers, p.patient.id)
    response = await _put(client, p.spoke.headers, made["id"], data, kind)
    assert response.status == 422, await response.text()
    assert fields(await response.json()) == ["form"]
    [row] = await stored(pool)
    assert row["form_size"] is None


async def test_a_consent_keeps_its_first_signed_form(client: TestClient, network: Network) -> None:
    p = await patients(network)
    made = await record(client, p.spoke.headers, p.patient.id)
    assert (await _put(client, p.spoke.headers, made["id"], PDF, "application/pdf")).status == 200
    second = await _put(client, p.spoke.headers, made["id"], PNG, "image/png")
    assert second.status == 409
    got = await client.get(f"/api/v1/consents/{made['id']}/form", headers=p.spoke.headers)
    assert await got.read() == PDF


async def test_the_form_is_never_served_to_another_clinic_nor_when_there_is_none(
    client: TestClient, network: Network
) -> None:
    p = await patients(network)
    made = await record(client, p.spoke.headers, p.patient.id)
    none_yet = await client.get(f"/api/v1/consents/{made['id']}/form", headers=p.spoke.headers)
    assert none_yet.status == 404
    assert (await _put(client, p.spoke.headers, made["id"], PDF, "application/pdf")).status == 200
    theirs = await client.get(f"/api/v1/consents/{made['id']}/form", headers=p.other.headers)
    assert theirs.status == 404
    assert b"PDF" not in await theirs.read()
    # A clinic the consent names as a recipient is still not the patient's clinic.
    named = await record(client, p.spoke.headers, p.patient.id, recipient_spoke_ids=[p.other.id])
    assert (await _put(client, p.spoke.headers, named["id"], PDF, "application/pdf")).status == 200
    recipient = await client.get(f"/api/v1/consents/{named['id']}/form", headers=p.other.headers)
    assert recipient.status == 404


async def test_the_pages_attach_a_form_through_the_same_checks(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    p = await patients(network)
    made = await record(client, p.spoke.headers, p.patient.id)
    clinic = Caller("spoke", "page", KIND_SCOPES["spoke"], p.spoke.id, user_id=7)
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(ValidationFailed) as refused:
            await consents.attach_form(
                conn,
                clinic,
                Trail("user:7"),
                made["id"],
                content_type="image/png",
                filename="scan.png",
                data=JPEG,
            )
    assert [e.field for e in refused.value.errors] == ["form"]
    async with pool.acquire() as conn, conn.transaction():
        kept = await consents.attach_form(
            conn,
            clinic,
            Trail("user:7"),
            made["id"],
            content_type="image/jpeg",
            filename="../../etc/scan.jpg",
            data=JPEG,
        )
    assert kept.form_name == "scan.jpg" and kept.form_size == len(JPEG)
    assert ("user:7", "update") in await audit_rows(pool, made["id"])
