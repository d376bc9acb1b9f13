"""SQL for services, availability rules and exceptions, and the calendars slot search needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import asyncpg
from asyncpg import Range

from scheduling.slots import ConsultantCalendar, ExtraHours, Period, ServiceTerms, WeeklyRule

ServiceKind = Literal["econsult", "video_session", "case_review"]

_SERVICE_COLUMNS = """
    id, kind, name, duration_minutes, buffer_before_minutes, buffer_after_minutes,
    interval_minutes, min_notice_minutes, horizon_days, turnaround_hours, roles, active
"""


@dataclass(frozen=True, slots=True)
class Service:
    """Something the hub offers: an e-consult, a video session or a case review."""

    id: int
    kind: ServiceKind
    name: str
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    interval_minutes: int | None
    min_notice_minutes: int
    horizon_days: int
    turnaround_hours: int | None
    roles: tuple[str, ...]
    active: bool

    @property
    def terms(self) -> ServiceTerms:
        """The parts of the service that shape its slots."""
        return ServiceTerms(
            service_id=self.id,
            duration=timedelta(minutes=self.duration_minutes),
            buffer_before=timedelta(minutes=self.buffer_before_minutes),
            buffer_after=timedelta(minutes=self.buffer_after_minutes),
            min_notice=timedelta(minutes=self.min_notice_minutes),
            horizon=timedelta(days=self.horizon_days),
            interval=timedelta(minutes=self.interval_minutes) if self.interval_minutes else None,
            # Seeing a patient by video is practising medicine where the patient is.
            requires_license=self.kind == "video_session",
        )


def _service(row: asyncpg.Record) -> Service:
    values = dict(row)
    values["roles"] = tuple(values["roles"])
    return Service(**values)


async def insert_service(
    conn: asyncpg.Connection,
    *,
    kind: ServiceKind,
    name: str,
    duration_minutes: int,
    roles: Sequence[str],
    buffer_before_minutes: int = 0,
    buffer_after_minutes: int = 0,
    interval_minutes: int | None = None,
    min_notice_minutes: int = 0,
    horizon_days: int = 60,
    turnaround_hours: int | None = None,
) -> Service:
    """Add a service."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO services (kind, name, duration_minutes, buffer_before_minutes,
            buffer_after_minutes, interval_minutes, min_notice_minutes, horizon_days,
            turnaround_hours, roles)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        RETURNING {_SERVICE_COLUMNS}
        """,
        kind,
        name,
        duration_minutes,
        buffer_before_minutes,
        buffer_after_minutes,
        interval_minutes,
        min_notice_minutes,
        horizon_days,
        turnaround_hours,
        list(roles),
    )
    assert row is not None
    return _service(row)


async def get_service(conn: asyncpg.Connection, service_id: int) -> Service | None:
    """One service by id."""
    row = await conn.fetchrow(f"SELECT {_SERVICE_COLUMNS} FROM services WHERE id = $1", service_id)
    return _service(row) if row else None


async def list_services(conn: asyncpg.Connection) -> list[Service]:
    """Every active service."""
    rows = await conn.fetch(
        f"SELECT {_SERVICE_COLUMNS} FROM services WHERE active ORDER BY kind, name"
    )
    return [_service(r) for r in rows]


@dataclass(frozen=True, slots=True)
class RuleRow:
    """A stored weekly availability rule."""

    weekday: int
    start_time: time
    end_time: time
    service_ids: tuple[int, ...] | None
    valid_from: date | None
    valid_until: date | None


@dataclass(frozen=True, slots=True)
class ExceptionRow:
    """A stored exception: time off or extra hours, as an absolute period."""

    kind: Literal["time_off", "extra_hours"]
    start: datetime
    end: datetime
    service_ids: tuple[int, ...] | None
    note: str


async def replace_availability(
    conn: asyncpg.Connection,
    consultant_id: int,
    rules: Sequence[RuleRow],
    exceptions: Sequence[ExceptionRow],
) -> None:
    """Replace a consultant's weekly rules and exceptions as a whole."""
    await conn.execute("DELETE FROM availability_rules WHERE consultant_id = $1", consultant_id)
    await conn.execute(
        "DELETE FROM availability_exceptions WHERE consultant_id = $1", consultant_id
    )
    await conn.executemany(
        """
        INSERT INTO availability_rules (consultant_id, weekday, start_time, end_time,
                                        service_ids, valid_from, valid_until)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        [
            (
                consultant_id,
                r.weekday,
                r.start_time,
                r.end_time,
                _ids(r.service_ids),
                r.valid_from,
                r.valid_until,
            )
            for r in rules
        ],
    )
    await conn.executemany(
        """
        INSERT INTO availability_exceptions (consultant_id, kind, period, service_ids, note)
        VALUES ($1, $2, tstzrange($3, $4, '[)'), $5, $6)
        """,
        [(consultant_id, e.kind, e.start, e.end, _ids(e.service_ids), e.note) for e in exceptions],
    )


def _ids(ids: tuple[int, ...] | None) -> list[int] | None:
    return None if ids is None else sorted(set(ids))


async def get_availability(
    conn: asyncpg.Connection, consultant_id: int
) -> tuple[list[RuleRow], list[ExceptionRow]]:
    """A consultant's weekly rules and exceptions, as stored."""
    rules = await conn.fetch(
        """
        SELECT weekday, start_time, end_time, service_ids, valid_from, valid_until
        FROM availability_rules WHERE consultant_id = $1 ORDER BY weekday, start_time, id
        """,
        consultant_id,
    )
    exceptions = await conn.fetch(
        """
        SELECT kind, lower(period) AS start, upper(period) AS "end", service_ids, note
        FROM availability_exceptions WHERE consultant_id = $1 ORDER BY lower(period), id
        """,
        consultant_id,
    )
    return (
        [RuleRow(**{**dict(r), "service_ids": _tuple(r["service_ids"])}) for r in rules],
        [ExceptionRow(**{**dict(e), "service_ids": _tuple(e["service_ids"])}) for e in exceptions],
    )


def _tuple(ids: list[int] | None) -> tuple[int, ...] | None:
    return None if ids is None else tuple(ids)


def _ids_text(text: str) -> frozenset[int] | None:
    return None if text == "*" else frozenset(int(i) for i in text.split(",") if i)


async def load_calendars(
    conn: asyncpg.Connection,
    service: Service,
    window: Period,
    *,
    consultant_id: int | None = None,
    ignore_booking: object | None = None,
) -> list[ConsultantCalendar]:
    """The calendars of every active consultant offering the service, for slot search.

    One query, whatever the number of consultants or days: a row per consultant with its
    rules, exceptions and busy periods as parallel arrays.
    """
    # Wide enough to see anything whose buffers could reach into the window.
    margin = timedelta(days=1)
    around = Range(window.start - margin, window.end + margin)
    rows = await conn.fetch(
        """
        SELECT c.id, c.timezone, c.licensed_states,
               r.weekdays, r.starts, r.ends, r.rule_services, r.valid_froms, r.valid_untils,
               e.kinds, e.periods, e.exception_services, b.blocked
        FROM consultants c
        JOIN consultant_services cs ON cs.consultant_id = c.id AND cs.service_id = $1
        LEFT JOIN LATERAL (
            SELECT array_agg(weekday ORDER BY id) AS weekdays,
                   array_agg(start_time ORDER BY id) AS starts,
                   array_agg(end_time ORDER BY id) AS ends,
                   array_agg(coalesce(array_to_string(service_ids, ','), '*') ORDER BY id)
                       AS rule_services,
                   array_agg(valid_from ORDER BY id) AS valid_froms,
                   array_agg(valid_until ORDER BY id) AS valid_untils
            FROM availability_rules WHERE consultant_id = c.id
        ) r ON true
        LEFT JOIN LATERAL (
            SELECT array_agg(kind ORDER BY id) AS kinds,
                   array_agg(period ORDER BY id) AS periods,
                   array_agg(coalesce(array_to_string(service_ids, ','), '*') ORDER BY id)
                       AS exception_services
            FROM availability_exceptions
            WHERE consultant_id = c.id AND period && $3::tstzrange
        ) e ON true
        LEFT JOIN LATERAL (
            SELECT array_agg(blocked) AS blocked
            FROM bookings
            WHERE consultant_id = c.id AND status <> 'cancelled'
              AND upper(blocked) > $4 AND lower(blocked) < $5
              AND ($6::uuid IS NULL OR id <> $6)
        ) b ON true
        WHERE c.active AND ($2::bigint IS NULL OR c.id = $2)
        ORDER BY c.id
        """,
        service.id,
        consultant_id,
        around,
        around.lower,
        around.upper,
        ignore_booking,
    )
    return [_calendar(row) for row in rows]


def _calendar(row: asyncpg.Record) -> ConsultantCalendar:
    rules = tuple(
        WeeklyRule(day, start, end, _ids_text(ids), valid_from, valid_until)
        for day, start, end, ids, valid_from, valid_until in zip(
            row["weekdays"] or (),
            row["starts"] or (),
            row["ends"] or (),
            row["rule_services"] or (),
            row["valid_froms"] or (),
            row["valid_untils"] or (),
            strict=True,
        )
    )
    time_off: list[Period] = []
    extra: list[ExtraHours] = []
    for kind, period, ids in zip(
        row["kinds"] or (), row["periods"] or (), row["exception_services"] or (), strict=True
    ):
        span = Period(period.lower, period.upper)
        if kind == "time_off":
            time_off.append(span)
        else:
            extra.append(ExtraHours(span, _ids_text(ids)))
    return ConsultantCalendar(
        consultant_id=row["id"],
        zone=ZoneInfo(row["timezone"]),
        rules=rules,
        licensed_states=frozenset(row["licensed_states"]),
        extra_hours=tuple(extra),
        time_off=tuple(time_off),
        busy=tuple(Period(b.lower, b.upper) for b in row["blocked"] or ()),
    )
