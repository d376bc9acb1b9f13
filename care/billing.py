"""Which collaborative care codes a patient's counted minutes in one calendar month support.

Pure: the thresholds are data (SCHEDULE, one table in this module); `codes` reads them and
holds no number of its own, so a change of the fee schedule is a change of the table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Threshold:
    """A code, the minutes it describes, and the fewest minutes that support it."""

    code: str
    minutes: int
    supported_from: int


@dataclass(frozen=True, slots=True)
class Schedule:
    """The fee schedule's codes for collaborative care management time in a month."""

    first_month: Threshold  # the month's main code in the patient's first month
    later_month: Threshold  # the month's main code in every later month
    add_on: Threshold  # each further block beyond the main code's minutes
    fallback: Threshold  # general behavioral health integration, below the main code


# CMS physician fee schedule: psychiatric collaborative care management (99492, 99493, 99494)
# and general behavioral health integration (G2214). A unit of time is met once more than half
# of it has passed, hence "supported from".
SCHEDULE = Schedule(
    first_month=Threshold("99492", minutes=70, supported_from=36),
    later_month=Threshold("99493", minutes=60, supported_from=31),
    add_on=Threshold("99494", minutes=30, supported_from=16),
    fallback=Threshold("G2214", minutes=30, supported_from=16),
)


@dataclass(frozen=True, slots=True)
class Billed:
    """One code and how many units of it the minutes support."""

    code: str
    units: int


def codes(minutes: int, *, first_month: bool, schedule: Schedule = SCHEDULE) -> list[Billed]:
    """The codes a patient's counted minutes in one month support (none below the least)."""
    main = schedule.first_month if first_month else schedule.later_month
    if minutes >= main.supported_from:
        billed = [Billed(main.code, 1)]
        units = add_on_units(minutes - main.minutes, schedule.add_on)
        if units:
            billed.append(Billed(schedule.add_on.code, units))
        return billed
    if minutes >= schedule.fallback.supported_from:
        return [Billed(schedule.fallback.code, 1)]
    return []


def add_on_units(beyond: int, add_on: Threshold) -> int:
    """Units of the add-on in `beyond` minutes past the main code: the k-th unit counts once
    its block has reached `supported_from` minutes."""
    if beyond < add_on.supported_from:
        return 0
    return (beyond - add_on.supported_from) // add_on.minutes + 1
