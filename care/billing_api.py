"""The minutes ledger's JSON and CSV API: what a clinic's care management minutes support."""

from __future__ import annotations

import csv
import io

from aiohttp import web

from care import ledger
from care.billing_schemas import BilledPatientOut, BillingQuery, BillingReportOut, BillingRowOut
from telehub.api import ApiRoutes
from telehub.auth import Caller
from telehub.request import trail_of, unit_of_work

api = ApiRoutes(tag="registry")

CSV_COLUMNS = (
    "patient_id",
    "mrn",
    "given_name",
    "family_name",
    "episode_ids",
    "minutes",
    "first_month",
    "code",
    "units",
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def report_out(report: ledger.Report) -> BillingReportOut:
    """The API view of a billing report."""
    return BillingReportOut(
        spoke_id=report.spoke_id,
        month=report.month.strftime("%Y-%m"),
        rows=[
            BillingRowOut(
                patient_id=r.patient_id,
                episode_ids=list(r.episode_ids),
                minutes=r.minutes,
                first_month=r.first_month,
                code=r.code,
                units=r.units,
                patient=(
                    BilledPatientOut(
                        mrn=r.patient.mrn,
                        given_name=r.patient.given_name,
                        family_name=r.patient.family_name,
                    )
                    if r.patient
                    else None
                ),
            )
            for r in report.rows
        ],
    )


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def report_csv(report: ledger.Report) -> str:
    """The report as CSV: a header row, then one row per patient per code."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in report.rows:
        p = r.patient
        writer.writerow(
            [
                safe_cell(v)
                for v in (
                    r.patient_id,
                    p.mrn if p else "",
                    p.given_name if p else "",
                    p.family_name if p else "",
                    " ".join(str(e) for e in r.episode_ids),
                    r.minutes,
                    "true" if r.first_month else "false",
                    r.code,
                    r.units,
                )
            ]
        )
    return out.getvalue()


def wants_csv(request: web.Request) -> bool:
    """Whether the Accept header asks for text/csv (rather than JSON)."""
    ranges = [
        part.split(";")[0].strip().lower() for part in request.headers.get("Accept", "").split(",")
    ]
    return "text/csv" in ranges


@api.operation(
    "GET",
    "/api/v1/registry/billing",
    name="registry_billing",
    summary=(
        "A clinic's billing report for a month: per patient, counted minutes and the codes they "
        "support (99492/99493/99494/G2214). application/json, or text/csv with Accept: text/csv"
    ),
    scope="registry:read",
    input=BillingQuery,
    output=BillingReportOut,
    errors=(404, 422),
)
async def get_billing(
    request: web.Request, caller: Caller, query: BillingQuery
) -> BillingReportOut | web.Response:
    """A clinic its own (another clinic's spoke_id: 404); the hub names the clinic (422 without
    spoke_id) and gets no names (403 asking for them)."""
    async with unit_of_work(request) as conn:
        report = await ledger.billing_report(
            conn,
            caller,
            trail_of(request, caller),
            month=query.first_day,
            spoke_id=query.spoke_id,
            names=query.names,
        )
    if wants_csv(request):
        filename = f"billing-{report.spoke_slug}-{report.month.strftime('%Y-%m')}.csv"
        return web.Response(
            text=report_csv(report),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return report_out(report)
