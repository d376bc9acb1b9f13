"""A network whose hours cross the edges a slot search with `limit` reads its window by: runs of
hours over midnight and weekends, a chain of extra hours, a rule that starts mid-window, time
off, bookings, a daylight-saving change, and a grid that no day divides."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from scheduling import store
from scheduling.store import ExceptionRow, RuleRow, Service
from tests.factories.network import Network
from tests.factories.records import booking_in_store

CHICAGO = ZoneInfo("America/Chicago")


def _chicago(day: int, hour: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, tzinfo=CHICAGO)


async def service_with_edges(network: Network, **service_fields: object) -> Service:
    """A video service (45 minutes, 5 before and 20 after: a 70-minute grid) offered by five
    consultants licensed in VT and one who is not, with bookings in the first week."""
    fields: dict[str, object] = dict(
        duration_minutes=45, buffer_before_minutes=5, buffer_after_minutes=20
    )
    fields.update(service_fields)
    service = await network.service(**fields)
    weekdays = tuple((d, time(9), time(17)) for d in range(5))
    la = await network.consultant([service], hours=weekdays)
    # Friday 18:00 to Monday 08:30, unbroken: a chunk starting on Sunday must look back.
    weekend = await network.consultant(
        [service],
        timezone="America/New_York",
        hours=(
            (4, time(18), time(0)),
            (5, time(0), time(0)),
            (6, time(0), time(0)),
            (0, time(0), time(8, 30)),
        ),
    )
    # Two days of extra hours, then three more touching them: one run of five days.
    await network.consultant(
        [service],
        timezone="America/Chicago",
        hours=((1, time(13), time(19)), (3, time(13), time(19))),
        exceptions=(
            ExceptionRow("extra_hours", _chicago(4), _chicago(6), None, ""),
            ExceptionRow("extra_hours", _chicago(6), _chicago(9), None, ""),
            ExceptionRow("time_off", _chicago(9, 14), _chicago(9, 16), None, ""),
            ExceptionRow("time_off", _chicago(16), _chicago(19), None, ""),
        ),
    )
    # Every day 06:00-22:00 from 20 March, in a zone without daylight saving.
    phoenix = await network.consultant([service], timezone="America/Phoenix", hours=())
    async with network.pool.acquire() as conn:
        await store.replace_availability(
            conn,
            phoenix.id,
            [RuleRow(d, time(6), time(22), None, date(2027, 3, 20), None) for d in range(7)],
            [],
        )
    await network.consultant([service], states=("CA",), hours=weekdays)
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    async with network.pool.acquire() as conn:
        for consultant_id, start in (
            (la.id, datetime(2027, 3, 2, 17, 0, tzinfo=UTC)),
            (la.id, datetime(2027, 3, 3, 20, 10, tzinfo=UTC)),
            (weekend.id, datetime(2027, 3, 7, 3, 0, tzinfo=UTC)),
        ):
            await booking_in_store(
                conn,
                service_id=service.id,
                consultant_id=consultant_id,
                spoke_id=spoke.id,
                patient_id=patient.id,
                start=start,
                hours=2,
            )
    return service
