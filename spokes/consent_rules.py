"""A consent's status on a day, and a patient's overall consent status: pure rules.

Dates are the clinic's own (the caller passes the clinic's today). Whether a consent lets a
note go is not decided here but by `consent_store.covering` (with `consent_in_force` in SQL);
these words are what people read on pages and in the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Final, Literal, Protocol

Status = Literal["active", "expiring", "expired", "revoked", "not_yet_in_force"]
Overall = Literal["active", "expiring", "revoked", "none"]

# A consent in force that ends within this many days is "expiring": time to ask again.
EXPIRING_WITHIN: Final = timedelta(days=30)


class Dated(Protocol):
    """What status needs of a consent (spokes.consent_store.Consent has it)."""

    @property
    def signed_on(self) -> date: ...
    @property
    def expires_on(self) -> date | None: ...
    @property
    def revoked_at(self) -> datetime | None: ...


def status(consent: Dated, today: date) -> Status:
    """The consent's status on the clinic's `today`.

    Revoked from the moment the revocation is recorded; not yet in force before the day it
    was signed; expired the day after its expiry date; expiring while in force and ending
    within EXPIRING_WITHIN (its last day included); otherwise active.
    """
    if consent.revoked_at is not None:
        return "revoked"
    if today < consent.signed_on:
        return "not_yet_in_force"
    if consent.expires_on is None:
        return "active"
    if today > consent.expires_on:
        return "expired"
    if consent.expires_on - today <= EXPIRING_WITHIN:
        return "expiring"
    return "active"


def days_left(consent: Dated, today: date) -> int | None:
    """Days until an expiring consent's last day (0: it ends today); None otherwise."""
    if status(consent, today) != "expiring" or consent.expires_on is None:
        return None
    return (consent.expires_on - today).days


def overall(consents: Iterable[Dated], today: date) -> Overall:
    """The patient's consent status in one word.

    "active" when some consent is in force and not ending soon; "expiring" when every consent
    in force ends within EXPIRING_WITHIN; "revoked" when none is in force and one was revoked
    (the patient said no: the clinic should not simply ask again); "none" otherwise (never
    given, expired, or not yet in force).
    """
    statuses = {status(c, today) for c in consents}
    if "active" in statuses:
        return "active"
    if "expiring" in statuses:
        return "expiring"
    if "revoked" in statuses:
        return "revoked"
    return "none"
