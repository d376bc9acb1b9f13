"""SQL for services, availability rules and exceptions, and the calendars slot search needs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import asyncpg
from asyncpg import Range

from scheduling.one_statement import KEPT_COLUMNS, Kept, kept_in, kept_join, key_args
from scheduling.slots import ConsultantCalendar, ExtraHours, Period, ServiceTerms, WeeklyRule

ServiceKind = Literal["econsult", "video_session", "case_review", "group_session"]

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


def _service(row: asyncpg.Record | dict[str, object]) -> Service:
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


def _frozen(ids: list[int] | None) -> frozenset[int] | None:
    return None if ids is None else frozenset(ids)


async def load_calendars(
    conn: asyncpg.Connection,
    service: Service | None,
    window: Period,
    *,
    consultant_id: int | None = None,
    ignore_booking: object | None = None,
    with_busy: bool = True,
    now: datetime,
) -> list[ConsultantCalendar]:
    """The calendars of every active consultant offering the service (None: every one).

    Four queries whatever the number of consultants or days: consultants, rules,
    exceptions and busy periods, each for all consultants at once. Without `with_busy`
    (capacity: what was offered, not what is left) the bookings are not read.
    """
    # Wide enough to see anything whose buffers could reach into the window.
    margin = timedelta(days=1)
    around = Range(window.start - margin, window.end + margin)
    people = await conn.fetch(
        """
        SELECT c.id, c.timezone, c.licensed_states
        FROM consultants c
        WHERE c.active AND ($2::bigint IS NULL OR c.id = $2)
          AND ($1::bigint IS NULL OR EXISTS (
                  SELECT 1 FROM consultant_services cs
                  WHERE cs.consultant_id = c.id AND cs.service_id = $1))
        ORDER BY c.id
        """,
        service.id if service else None,
        consultant_id,
    )
    if not people:
        return []
    ids = [p["id"] for p in people]
    rules: dict[int, list[WeeklyRule]] = defaultdict(list)
    for r in await conn.fetch(
        """
        SELECT consultant_id, weekday, start_time, end_time, service_ids, valid_from, valid_until
        FROM availability_rules
        WHERE consultant_id = ANY ($1::bigint[])
        """,
        ids,
    ):
        # Every rule, whatever its dates: a handful per consultant, and the engine may look
        # back past the window to find where an unbroken run of hours begins.
        rules[r["consultant_id"]].append(
            WeeklyRule(
                r["weekday"],
                r["start_time"],
                r["end_time"],
                _frozen(r["service_ids"]),
                r["valid_from"],
                r["valid_until"],
            )
        )
    time_off: dict[int, list[Period]] = defaultdict(list)
    extra: dict[int, list[ExtraHours]] = defaultdict(list)
    for e in await conn.fetch(
        """
        SELECT consultant_id, kind, lower(period) AS start, upper(period) AS "end", service_ids
        FROM availability_exceptions
        WHERE consultant_id = ANY ($1::bigint[]) AND period && $2::tstzrange
        """,
        ids,
        around,
    ):
        _sort_exception(
            e["kind"],
            Period(e["start"], e["end"]),
            _frozen(e["service_ids"]),
            time_off[e["consultant_id"]],
            extra[e["consultant_id"]],
        )
    busy: dict[int, list[Period]] = defaultdict(list)
    # Every held minute, a booking's or a group occurrence's (migration 017): a group's time is
    # never offered as a 1:1 slot. Cancelled ones hold nothing. A slot hold's (migration 023)
    # counts until its expiry and never after, as of `now` (the app's clock), whether or not a
    # writer has ended it yet.
    booked = (
        await conn.fetch(
            """
            SELECT consultant_id, lower(blocked) AS start, upper(blocked) AS "end"
            FROM consultant_holds
            WHERE consultant_id = ANY ($1::bigint[])
              AND blocked && tstzrange($2, $3, '()')
              AND ($4::uuid IS NULL OR booking_id IS DISTINCT FROM $4)
              AND (expires_at IS NULL OR expires_at > $5)
            """,
            ids,
            around.lower,
            around.upper,
            ignore_booking,
            now,
        )
        if with_busy
        else []
    )
    for b in booked:
        busy[b["consultant_id"]].append(Period(b["start"], b["end"]))
    return [
        ConsultantCalendar(
            consultant_id=p["id"],
            zone=ZoneInfo(p["timezone"]),
            rules=tuple(rules[p["id"]]),
            licensed_states=frozenset(p["licensed_states"]),
            extra_hours=tuple(extra[p["id"]]),
            time_off=tuple(time_off[p["id"]]),
            busy=tuple(busy[p["id"]]),
        )
        for p in people
    ]


def _sort_exception(
    kind: str,
    period: Period,
    service_ids: frozenset[int] | None,
    time_off: list[Period],
    extra: list[ExtraHours],
) -> None:
    if kind == "time_off":
        time_off.append(period)
    else:
        extra.append(ExtraHours(period, service_ids))


_SERVICE_FIELDS = tuple(c.strip() for c in _SERVICE_COLUMNS.split(","))


def service_in(row: asyncpg.Record, prefix: str = "") -> Service | None:
    """The service among a one-statement read's columns (each named `prefix` + its field),
    None when the read found none."""
    if row[f"{prefix}id"] is None:
        return None
    return _service({f: row[f"{prefix}{f}"] for f in _SERVICE_FIELDS})


def calendar_columns(consultant: str, window: str, now: str, *, busy_also: str = "true") -> str:
    """The columns of one consultant's calendar in a one-statement read, decoded by
    calendar_in: the offer's name, zone and licences (hub_consultant_offers as `o`), the
    consultant's rules, and the exceptions and busy time within `window` (busy as of `now`,
    and where `busy_also` holds). Each argument is SQL text made here: a column or a $n."""
    return f"""
            o.name AS consultant_name_, o.timezone AS timezone_,
            o.licensed_states AS licensed_states_,
            ARRAY(
                SELECT row(weekday, start_time, end_time, array_to_string(service_ids, ','),
                           service_ids IS NULL, valid_from, valid_until)
                FROM availability_rules WHERE consultant_id = {consultant}
            ) AS rules_,
            ARRAY(
                SELECT row(kind, lower(period), upper(period),
                           array_to_string(service_ids, ','), service_ids IS NULL)
                FROM availability_exceptions
                WHERE consultant_id = {consultant} AND period && {window}
            ) AS exceptions_,
            ARRAY(
                SELECT row(lower(blocked), upper(blocked)) FROM consultant_holds
                -- Both of the exclusion constraint's columns, so that its GiST index finds
                -- this consultant's few rows, not every consultant's in the window.
                WHERE int8range(consultant_id, consultant_id, '[]')
                      && int8range({consultant}, {consultant}, '[]')
                  AND blocked && tstzrange(lower({window}), upper({window}), '()')
                  AND {busy_also}
                  AND (expires_at IS NULL OR expires_at > {now})
            ) AS busy_"""


def _listed(ids: str | None, unlimited: bool) -> frozenset[int] | None:
    # A bigint[] inside a record travels as text (asyncpg decodes no arrays in records).
    if unlimited:
        return None
    return frozenset(int(i) for i in ids.split(",")) if ids else frozenset()


def calendar_in(consultant_id: int, row: asyncpg.Record) -> ConsultantCalendar:
    """The consultant's calendar from the columns of calendar_columns."""
    time_off: list[Period] = []
    extra: list[ExtraHours] = []
    for kind, lo, hi, ids, unlimited in row["exceptions_"]:
        _sort_exception(kind, Period(lo, hi), _listed(ids, unlimited), time_off, extra)
    return ConsultantCalendar(
        consultant_id=consultant_id,
        zone=ZoneInfo(row["timezone_"]),
        rules=tuple(
            WeeklyRule(day, lo, hi, _listed(ids, unlimited), since, until)
            for day, lo, hi, ids, unlimited, since, until in row["rules_"]
        ),
        licensed_states=frozenset(row["licensed_states_"]),
        extra_hours=tuple(extra),
        time_off=tuple(time_off),
        busy=tuple(Period(lo, hi) for lo, hi in row["busy_"]),
    )


@dataclass(frozen=True, slots=True)
class BookingFacts:
    """Everything one booking's check needs, read in one statement (`booking_facts`)."""

    now: datetime  # the transaction's own timestamp: the booking's created_at
    service: Service | None  # None: no such service
    patient_found: bool  # the patient is one of this clinic's
    patient_state: str | None
    calendar: ConsultantCalendar | None  # None: not an active consultant offering the service
    consultant_name: str | None
    kept: Kept  # the Idempotency-Key's kept answer, if any

    @property
    def replay(self) -> bool:
        """Whether the Idempotency-Key already has an answer."""
        return self.kept[0] is not None


# booking_facts' busy time: all but the booking being moved ($6) and the slot hold being
# booked ($10), if any.
_OTHER_THAN_6_AND_10 = (
    "($6::uuid IS NULL OR booking_id IS DISTINCT FROM $6)"
    " AND ($10::uuid IS NULL OR slot_hold_id IS DISTINCT FROM $10)"
)


async def booking_facts(
    conn: asyncpg.Connection,
    *,
    service_id: int,
    consultant_id: int,
    spoke_id: int,
    patient_id: object,
    start: datetime,
    now: datetime,
    ignore_booking: object | None = None,
    ignore_hold: object | None = None,
    key: tuple[str, str] | None = None,
) -> BookingFacts:
    """One statement: the service, the clinic's patient's state (spokes' view), the
    consultant's offer (the hub's view), their rules, exceptions and busy time within two days
    of `start` (a day's margin around the day either side, as load_calendars), and the kept
    answer of the (owner, key) claimed before this statement (telehub's function). The busy
    time leaves out `ignore_booking` (a booking being moved) and `ignore_hold` (a slot hold
    being booked: its minutes become the booking's).

    Its snapshot is taken after the transaction's first round trip took the consultant's
    time lock, so it sees every booking committed before the lock was ours.
    """
    around = Range(start - timedelta(days=2), start + timedelta(days=2))
    row = await conn.fetchrow(
        f"""
        WITH s AS (SELECT {_SERVICE_COLUMNS} FROM services WHERE id = $1)
        SELECT now() AS now_, s.*,
            p.patient_id IS NOT NULL AS patient_found_, p.state AS patient_state_,
            o.consultant_id IS NOT NULL AS offers_,
            {calendar_columns("$2", "$5", "$7", busy_also=_OTHER_THAN_6_AND_10)},
            {KEPT_COLUMNS}
        FROM (SELECT 1) one
        LEFT JOIN s ON true
        LEFT JOIN spoke_patient_states p ON p.spoke_id = $3 AND p.patient_id = $4
        LEFT JOIN hub_consultant_offers o ON o.consultant_id = $2 AND o.service_id = $1
        {kept_join(8)}
        """,
        service_id,
        consultant_id,
        spoke_id,
        patient_id,
        around,
        ignore_booking,
        now,
        *key_args(key),
        ignore_hold,
    )
    assert row is not None
    calendar = calendar_in(consultant_id, row) if row["offers_"] else None
    return BookingFacts(
        now=row["now_"],
        service=service_in(row),
        patient_found=row["patient_found_"],
        patient_state=row["patient_state_"],
        calendar=calendar,
        consultant_name=row["consultant_name_"],
        kept=kept_in(row),
    )


@dataclass(frozen=True, slots=True)
class SpanFacts:
    """Everything planning a series needs, read in one statement (`span_facts`): booking_facts
    over a span of weeks, for one consultant or for each candidate of a role."""

    now: datetime  # the transaction's own timestamp: the series' created_at
    service: Service | None  # None: no such service
    patient_found: bool  # the patient is one of this clinic's
    patient_state: str | None
    spoke_zone: str | None  # the clinic's time zone
    calendars: dict[int, ConsultantCalendar]  # each candidate that offers the service
    names: dict[int, str]  # their names, for the words of a refusal
    kept: Kept  # the Idempotency-Key's kept answer, if any

    @property
    def replay(self) -> bool:
        """Whether the Idempotency-Key already has an answer."""
        return self.kept[0] is not None


async def span_facts(
    conn: asyncpg.Connection,
    *,
    service_id: int,
    consultant_ids: Sequence[int] | None,
    role: str | None,
    spoke_id: int,
    patient_id: object,
    window: Period,
    now: datetime,
    key: tuple[str, str] | None = None,
) -> SpanFacts:
    """One statement: the service, the clinic's patient's state and the clinic's zone (spokes'
    views), each candidate's offer (the hub's views: `consultant_ids`, or with None every
    active consultant of `role`), their rules, and their exceptions and busy time within
    `window`, and the kept answer of the (owner, key) claimed before this statement.

    Its snapshot is taken after an earlier round trip took the candidates' time lock, so it
    sees every booking committed before the lock was ours. One row per candidate (at least
    one: the shared facts come with a candidate of None when none offers the service).
    """
    rows = await conn.fetch(
        f"""
        WITH s AS (SELECT {_SERVICE_COLUMNS} FROM services WHERE id = $1)
        SELECT now() AS now_, s.*,
            p.patient_id IS NOT NULL AS patient_found_, p.state AS patient_state_,
            z.timezone AS spoke_zone_,
            {KEPT_COLUMNS},
            o.consultant_id AS consultant_id_,
            {calendar_columns("o.consultant_id", "$6", "$7")}
        FROM (SELECT 1) one
        LEFT JOIN s ON true
        LEFT JOIN spoke_patient_states p ON p.spoke_id = $4 AND p.patient_id = $5
        LEFT JOIN spoke_zones z ON z.spoke_id = $4
        {kept_join(8)}
        LEFT JOIN hub_consultant_offers o ON o.service_id = $1 AND CASE
            WHEN $2::bigint[] IS NULL THEN EXISTS (
                SELECT 1 FROM hub_consultant_roles r
                WHERE r.consultant_id = o.consultant_id AND r.role = $3)
            ELSE o.consultant_id = ANY ($2::bigint[]) END
        ORDER BY o.consultant_id
        """,
        service_id,
        None if consultant_ids is None else list(consultant_ids),
        role,
        spoke_id,
        patient_id,
        Range(window.start, window.end),
        now,
        *key_args(key),
    )
    first = rows[0]
    calendars: dict[int, ConsultantCalendar] = {}
    names: dict[int, str] = {}
    for row in rows:
        cid = row["consultant_id_"]
        if cid is None:
            continue
        calendars[cid] = calendar_in(cid, row)
        names[cid] = row["consultant_name_"]
    return SpanFacts(
        now=first["now_"],
        service=service_in(first),
        patient_found=first["patient_found_"],
        patient_state=first["patient_state_"],
        spoke_zone=first["spoke_zone_"],
        calendars=calendars,
        names=names,
        kept=kept_in(first),
    )
