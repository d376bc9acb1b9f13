"""A consent's status at every boundary, and a patient's overall status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from spokes.consent_rules import EXPIRING_WITHIN, days_left, overall, status

TODAY = date(2027, 3, 1)


@dataclass(frozen=True)
class C:
    signed_on: date = date(2027, 1, 10)
    expires_on: date | None = None
    revoked_at: datetime | None = None


def test_a_consent_until_revoked_is_active() -> None:
    assert status(C(), TODAY) == "active"
    assert days_left(C(), TODAY) is None


def test_a_consent_signed_today_is_in_force_today() -> None:
    assert status(C(signed_on=TODAY), TODAY) == "active"


def test_a_consent_signed_tomorrow_is_not_yet_in_force() -> None:
    assert status(C(signed_on=date(2027, 3, 2)), TODAY) == "not_yet_in_force"


def test_a_consent_expiring_today_is_still_in_force_and_expiring() -> None:
    consent = C(expires_on=TODAY)
    assert status(consent, TODAY) == "expiring"
    assert days_left(consent, TODAY) == 0


def test_a_consent_that_expired_yesterday_is_expired() -> None:
    assert status(C(expires_on=date(2027, 2, 28)), TODAY) == "expired"


def test_expiring_means_within_thirty_days_and_not_thirty_one() -> None:
    assert EXPIRING_WITHIN.days == 30
    in_30 = C(expires_on=date(2027, 3, 31))
    in_31 = C(expires_on=date(2027, 4, 1))
    assert status(in_30, TODAY) == "expiring" and days_left(in_30, TODAY) == 30
    assert status(in_31, TODAY) == "active" and days_left(in_31, TODAY) is None


def test_a_revoked_consent_is_revoked_whatever_its_dates() -> None:
    revoked_at = datetime(2027, 2, 20, 16, tzinfo=UTC)
    assert status(C(revoked_at=revoked_at), TODAY) == "revoked"
    assert status(C(expires_on=date(2027, 3, 5), revoked_at=revoked_at), TODAY) == "revoked"
    assert status(C(expires_on=date(2027, 2, 1), revoked_at=revoked_at), TODAY) == "revoked"


def test_the_patients_status_is_the_best_consent_in_force() -> None:
    active, expiring = C(), C(expires_on=date(2027, 3, 10))
    revoked = C(revoked_at=datetime(2027, 2, 1, tzinfo=UTC))
    expired = C(expires_on=date(2027, 2, 1))
    assert overall([], TODAY) == "none"
    assert overall([expired], TODAY) == "none"
    assert overall([C(signed_on=date(2027, 3, 2))], TODAY) == "none"
    assert overall([revoked, expired], TODAY) == "revoked"
    assert overall([revoked, expiring], TODAY) == "expiring"
    assert overall([expiring, active, revoked], TODAY) == "active"
