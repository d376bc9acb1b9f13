"""Factories for tests: a network built through the real stores, records made through the
API, and signing in through the real forms. Import from here: `from tests.factories import ...`."""

from __future__ import annotations

from tests.factories.care import (
    CareClinic,
    care_clinic,
    care_manager,
    clinic_caller,
    gad7,
    hub_caller,
    phq9,
)
from tests.factories.network import TOTP_SECRET, Clock, Network, SpokeUser
from tests.factories.records import (
    NOTE_SECTIONS,
    Bookable,
    Client,
    book,
    bookable,
    booking,
    booking_body,
    booking_in_store,
    booking_row,
    day_window,
    draft_note,
    econsult,
    iso,
    live_client,
    racing_bookings,
    sign_note,
    signed_note,
    slot_starts,
)
from tests.factories.signin import SIGNIN_TOKEN, enter_code, fresh_code, page_csrf, sign_in

__all__ = [
    "NOTE_SECTIONS",
    "SIGNIN_TOKEN",
    "TOTP_SECRET",
    "Bookable",
    "CareClinic",
    "Client",
    "Clock",
    "Network",
    "SpokeUser",
    "book",
    "bookable",
    "booking",
    "booking_body",
    "booking_in_store",
    "booking_row",
    "care_clinic",
    "care_manager",
    "clinic_caller",
    "day_window",
    "draft_note",
    "econsult",
    "enter_code",
    "fresh_code",
    "gad7",
    "hub_caller",
    "iso",
    "live_client",
    "page_csrf",
    "phq9",
    "racing_bookings",
    "sign_in",
    "sign_note",
    "signed_note",
    "slot_starts",
]
