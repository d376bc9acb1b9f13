"""Stable FHIR ids for things telehub computes rather than stores.

A Slot is not a row: it is an open time the slot engine offers, named by who, what and when,
`<consultant>-<service>-<YYYYMMDDTHHMMSSZ>` (UTC), so the same time has the same id in every
search, in every process, and a client can book it by id. A Schedule is one consultant offering
one service, `<consultant>-<service>`. Every id matches FHIR's `[A-Za-z0-9\\-\\.]{1,64}`.

Parsing never raises: a malformed id is simply an id of nothing (None), which a read answers
404 and a reference in a body answers 400/422 naming the element.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

_STAMP = "%Y%m%dT%H%M%SZ"
_NUMBER = r"(0|[1-9][0-9]{0,18})"  # a bigint, no leading zeros: one id per thing
_SLOT = re.compile(rf"^{_NUMBER}-{_NUMBER}-([0-9]{{8}}T[0-9]{{6}}Z)$")
_SCHEDULE = re.compile(rf"^{_NUMBER}-{_NUMBER}$")
_CLINIC = re.compile(rf"^clinic-{_NUMBER}$")
_PLAIN = re.compile(rf"^{_NUMBER}$")
HUB_ORGANIZATION = "hub"
_BIGINT = 2**63 - 1  # PostgreSQL's bigint: a larger number is no id (and must not reach SQL)


@dataclass(frozen=True, slots=True)
class SlotKey:
    """What a Slot id names: a consultant's start time for a service."""

    consultant_id: int
    service_id: int
    start: datetime


@dataclass(frozen=True, slots=True)
class ScheduleKey:
    """What a Schedule id names: one consultant offering one service."""

    consultant_id: int
    service_id: int


def slot_id(consultant_id: int, service_id: int, start: datetime) -> str:
    """The Slot id of a consultant's start time for a service (start must be aware)."""
    if start.tzinfo is None:
        raise ValueError("a slot starts at an aware time")
    return f"{consultant_id}-{service_id}-{start.astimezone(UTC).strftime(_STAMP)}"


def parse_slot_id(text: str) -> SlotKey | None:
    """The consultant, service and start a Slot id names, or None for a malformed id."""
    match = _SLOT.match(text)
    if match is None:
        return None
    try:
        start = datetime.strptime(match[3], _STAMP).replace(tzinfo=UTC)
    except ValueError:  # 20261332T990000Z has the shape but is no time
        return None
    if not _fits(match[1], match[2]):
        return None
    return SlotKey(int(match[1]), int(match[2]), start)


def schedule_id(consultant_id: int, service_id: int) -> str:
    """The Schedule id of a consultant offering a service."""
    return f"{consultant_id}-{service_id}"


def parse_schedule_id(text: str) -> ScheduleKey | None:
    """The consultant and service a Schedule id names, or None for a malformed id."""
    match = _SCHEDULE.match(text)
    return (
        ScheduleKey(int(match[1]), int(match[2])) if match and _fits(match[1], match[2]) else None
    )


def organization_id(spoke_id: int | None) -> str:
    """The Organization id of a clinic, or of the hub (None)."""
    return HUB_ORGANIZATION if spoke_id is None else f"clinic-{spoke_id}"


def parse_organization_id(text: str) -> tuple[bool, int | None]:
    """(found, spoke id): (True, None) is the hub, (False, None) a malformed id."""
    if text == HUB_ORGANIZATION:
        return True, None
    match = _CLINIC.match(text)
    return (True, int(match[1])) if match and _fits(match[1]) else (False, None)


def parse_number_id(text: str) -> int | None:
    """A numeric id (Practitioner, PractitionerRole, HealthcareService), or None if malformed."""
    return int(text) if _PLAIN.match(text) and _fits(text) else None


def _fits(*numbers: str) -> bool:
    return all(int(n) <= _BIGINT for n in numbers)
