"""The billing report's query and JSON shapes."""

from __future__ import annotations

import re
import uuid
from datetime import date

from pydantic import Field, field_validator

from telehub.validation import Input, Output

_MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")


def parse_month(text: str) -> date:
    """The first day of a YYYY-MM month; ValueError for anything else."""
    found = _MONTH.match(text)
    if found is None:
        raise ValueError("must be a month, YYYY-MM")
    year, month = int(found[1]), int(found[2])
    if not (year >= 1 and 1 <= month <= 12):
        raise ValueError("must be a month, YYYY-MM")
    return date(year, month, 1)


class BillingQuery(Input):
    """`month` (YYYY-MM), the clinic (required for the hub), and whether to name patients."""

    month: str = Field(description="The calendar month, YYYY-MM")
    spoke_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    names: bool = Field(default=False, description="Name the patients (the clinic only)")

    @field_validator("month")
    @classmethod
    def _month(cls, value: str) -> str:
        parse_month(value)
        return value

    @property
    def first_day(self) -> date:
        """The month's first day."""
        return parse_month(self.month)


class BilledPatientOut(Output):
    """Who a row is about: for the patient's own clinic, when it asked."""

    mrn: str
    given_name: str
    family_name: str


class BillingRowOut(Output):
    """One patient's one code in the month."""

    patient_id: uuid.UUID
    episode_ids: list[uuid.UUID]
    minutes: int = Field(
        description="Counted minutes in the month, over all the patient's episodes"
    )
    first_month: bool = Field(description="The month the patient's earliest counted episode began")
    code: str
    units: int
    patient: BilledPatientOut | None = None


class BillingReportOut(Output):
    """A clinic's billing report for one month: one row per patient per code."""

    spoke_id: int
    month: str
    rows: list[BillingRowOut]
