"""The billing report as CSV, the same for the API and the care manager's download."""

from __future__ import annotations

from care.ledger import Report
from telehub.csv_export import csv_text

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


def report_csv(report: Report) -> str:
    """The report as CSV: a header row, then one row per patient per code."""
    return csv_text(
        CSV_COLUMNS,
        (
            (
                r.patient_id,
                r.patient.mrn if r.patient else "",
                r.patient.given_name if r.patient else "",
                r.patient.family_name if r.patient else "",
                " ".join(str(e) for e in r.episode_ids),
                r.minutes,
                "true" if r.first_month else "false",
                r.code,
                r.units,
            )
            for r in report.rows
        ),
    )


def report_filename(report: Report) -> str:
    """`billing-<clinic slug>-<YYYY-MM>.csv`."""
    return f"billing-{report.spoke_slug}-{report.month.strftime('%Y-%m')}.csv"
