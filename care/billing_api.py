"""The minutes ledger's JSON and CSV API: what a clinic's care management minutes support."""

from __future__ import annotations

from aiohttp import web

from care import ledger
from care.billing_csv import report_csv, report_filename
from care.billing_schemas import BilledPatientOut, BillingQuery, BillingReportOut, BillingRowOut
from telehub.api import ApiRoutes
from telehub.auth import Caller
from telehub.csv_export import csv_download, wants_csv
from telehub.request import trail_of, unit_of_work

api = ApiRoutes(tag="registry")


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


@api.operation(
    "GET",
    "/api/v1/registry/billing",
    name="registry_billing",
    summary=(
        "A clinic's billing report for a month: per patient, counted minutes and the codes they "
        "support (99492/99493/99494/G2214); text/csv with Accept: text/csv"
    ),
    scope="registry:read",
    input=BillingQuery,
    output=BillingReportOut,
    errors=(404, 422),
    answers_also=("text/csv",),
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
        return csv_download(report_csv(report), report_filename(report))
    return report_out(report)
