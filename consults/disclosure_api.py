"""The accounting of disclosures API (42 CFR 2.24): a patient's disclosures, JSON or CSV."""

from __future__ import annotations

from aiohttp import web

from consults import accounting
from consults.schemas import DisclosureConsentOut, DisclosureOut, DisclosureQuery, DisclosuresOut
from telehub.api import ApiRoutes
from telehub.auth import Caller
from telehub.csv_export import csv_download, csv_text, wants_csv
from telehub.request import now_of, trail_of, unit_of_work, uuid_param

api = ApiRoutes(tag="consents")

CSV_HEADER = (
    "disclosed_at",
    "note_id",
    "note_version",
    "recipient_spoke_id",
    "recipient",
    "channel",
    "consent_id",
    "consent_kind",
    "disclosed_by",
    "disclosed_by_name",
)


def disclosures_out(found: accounting.Accounting) -> DisclosuresOut:
    """The API view of a patient's accounting."""
    return DisclosuresOut(
        patient_id=found.patient_id,
        since=found.window.since,
        clipped=found.window.clipped,
        disclosures=[
            DisclosureOut(
                note_id=r.note_id,
                note_version=r.note_version,
                recipient_spoke_id=r.recipient_spoke_id,
                recipient=r.recipient_name,
                channel=r.channel,
                consent=DisclosureConsentOut(
                    id=r.consent_id,
                    kind=r.consent_kind,
                ),
                disclosed_at=r.disclosed_at,
                disclosed_by=r.disclosed_by,
                disclosed_by_name=r.by_name,
            )
            for r in found.rows
        ],
    )


def disclosures_csv(found: accounting.Accounting) -> str:
    """The accounting as CSV, newest first (safe cells)."""
    return csv_text(
        CSV_HEADER,
        [
            (
                r.disclosed_at.isoformat(),
                r.note_id,
                r.note_version,
                r.recipient_spoke_id,
                r.recipient_name,
                r.channel,
                r.consent_id,
                r.consent_kind,
                r.disclosed_by,
                r.by_name,
            )
            for r in found.rows
        ],
    )


@api.operation(
    "GET",
    "/api/v1/patients/{id}/disclosures",
    name="list_disclosures",
    summary=(
        "The patient's accounting of disclosures (42 CFR 2.24), newest first: the last 3 years "
        "by default, ?since=YYYY-MM-DD (an earlier day is clipped to 3 years, and says so). "
        "application/json, or text/csv with Accept: text/csv"
    ),
    scope="consents:read",
    input=DisclosureQuery,
    output=DisclosuresOut,
    errors=(404, 422),
    path_params={"id": "uuid"},
    answers_also=("text/csv",),
)
async def list_disclosures(
    request: web.Request, caller: Caller, query: DisclosureQuery
) -> DisclosuresOut | web.Response:
    """The patient's clinic or the hub (another clinic's patient: 404); the read is audited."""
    async with unit_of_work(request) as conn:
        found = await accounting.accounting(
            conn,
            caller,
            trail_of(request, caller),
            uuid_param(request, "id"),
            since=query.since,
            now=now_of(request),
        )
    if wants_csv(request):
        return csv_download(disclosures_csv(found), f"disclosures-{found.patient_id}.csv")
    return disclosures_out(found)
