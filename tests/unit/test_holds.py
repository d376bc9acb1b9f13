"""A hold's status as read at an instant, and TELEHUB_HOLD_MINUTES."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from scheduling.hold_store import Hold
from telehub.settings import ConfigError, Settings

NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
GOOD = {"DATABASE_URL": "postgresql://db/telehub", "TELEHUB_SECRET_KEY": "s" * 40}


def _hold(status: str = "active") -> Hold:
    return Hold(
        id=uuid.uuid4(),
        spoke_id=1,
        consultant_id=2,
        service_id=3,
        patient_id=None,
        start=NOW + timedelta(days=7),
        end=NOW + timedelta(days=7, hours=1),
        expires_at=NOW + timedelta(minutes=5),
        status=status,  # type: ignore[arg-type]
        booking_id=None,
        created_at=NOW,
    )


def test_an_active_hold_lapses_at_its_expiry_not_before() -> None:
    held = _hold()
    assert held.status_at(NOW + timedelta(minutes=4, seconds=59)) == "active"
    assert held.status_at(NOW + timedelta(minutes=5)) == "expired"
    assert held.lapsed(NOW + timedelta(minutes=5))


@pytest.mark.parametrize("status", ["released", "expired"])
def test_an_ended_hold_reads_as_it_ended(status: str) -> None:
    assert _hold(status).status_at(NOW + timedelta(hours=1)) == status


def test_hold_minutes_default_to_five_and_come_from_the_environment() -> None:
    assert Settings.from_env(GOOD).hold_minutes == 5
    assert Settings.from_env({**GOOD, "TELEHUB_HOLD_MINUTES": "2.5"}).hold_minutes == 2.5


@pytest.mark.parametrize("value", ["0", "-1", "61", "five"])
def test_bad_hold_minutes_are_named(value: str) -> None:
    with pytest.raises(ConfigError, match="TELEHUB_HOLD_MINUTES"):
        Settings.from_env({**GOOD, "TELEHUB_HOLD_MINUTES": value})
