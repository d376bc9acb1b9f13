"""The consultant's availability editor: weekly hours in their own zone, and time off.

The form is flat (`hours.monday.0.start`, `exceptions.2.end`, ...); it is turned into the API's
`AvailabilityIn` and published as a whole, and errors come back to the field that caused them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from hub import views
from hub.pages.common import consultant_user, zone_label
from hub.store import Consultant
from scheduling import availability
from scheduling.schemas import WEEKDAYS, AvailabilityIn
from scheduling.store import ExceptionRow, RuleRow, Service
from telehub import forms
from telehub.errors import ValidationFailed
from telehub.request import now_of, unit_of_work
from telehub.validation import validate
from telehub.web import render, see_other, url_for

routes = web.RouteTableDef()

HOUR_ROWS = 3  # time ranges offered per weekday (more appear if more are stored)
BLANK_PERIODS = 2  # empty time-off rows to add new periods with
MAX_ROWS = 200
KINDS = (("time_off", "Time off"), ("extra_hours", "Extra hours"))  # the page's own words
_INDEX = re.compile(r"^(rules|exceptions)\.(\d+)(?:\.([a-z_]+))?")
LOCAL_DATETIME = "%Y-%m-%dT%H:%M"


@dataclass
class HoursForm:
    """The form read into the API's shape, with where each list item came from."""

    data: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"rules": [], "exceptions": []}
    )
    names: dict[str, list[str]] = field(default_factory=lambda: {"rules": [], "exceptions": []})
    errors: dict[str, str] = field(default_factory=dict)

    def field_of(self, api_field: str) -> str:
        """The form field an API error names (`rules.3.end` -> `hours.tuesday.1.end`)."""
        match = _INDEX.match(api_field)
        if match is None:
            return "form"
        kind, index, part = match.group(1), int(match.group(2)), match.group(3)
        names = self.names[kind]
        if index >= len(names):
            return "form"
        if part not in ("start", "end", "kind", "note", "valid_from", "valid_until"):
            part = "start"  # service restrictions have no input of their own
        return f"{names[index]}.{part}"


def row_count(typed: Mapping[str, str], prefix: str, minimum: int) -> int:
    """How many rows a flat form holds under `prefix` (`hours.monday`, `exceptions`)."""
    indices = [
        int(index)
        for key in typed
        if key.startswith(prefix + ".")
        and (index := key[len(prefix) + 1 :].split(".", 1)[0]).isdigit()
    ]
    return min(max([minimum, *(i + 1 for i in indices)]), MAX_ROWS)


def _services(text: str) -> list[str] | None:
    return None if text in ("", "all") else [s for s in text.split(",") if s]


def _both(form: HoursForm, name: str, start: str, end: str, what: str) -> bool:
    """Whether both ends are given; a half-filled row gets an error saying what to add."""
    if start and not end:
        form.errors[f"{name}.end"] = f"enter the end {what} too, or clear the start"
    elif end and not start:
        form.errors[f"{name}.start"] = f"enter the start {what} too, or clear the end"
    return bool(start and end)


def _local(form: HoursForm, name: str, text: str, zone: ZoneInfo) -> datetime | None:
    """A date and time typed in the consultant's zone, as an aware datetime."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        form.errors[name] = "enter a date and a time, like 2027-03-08 09:00"
        return None
    return value if value.tzinfo else value.replace(tzinfo=zone)


def read_hours(typed: Mapping[str, str], zone: ZoneInfo) -> HoursForm:
    """Turn the flat form into AvailabilityIn's shape; blank rows are skipped."""
    form = HoursForm()
    for weekday in WEEKDAYS:
        for i in range(row_count(typed, f"hours.{weekday}", HOUR_ROWS)):
            name = f"hours.{weekday}.{i}"
            start = typed.get(f"{name}.start", "").strip()
            end = typed.get(f"{name}.end", "").strip()
            if not _both(form, name, start, end, "time"):
                continue
            rule: dict[str, Any] = {"weekday": weekday, "start": start, "end": end}
            rule["service_ids"] = _services(typed.get(f"{name}.services", ""))
            for bound in ("valid_from", "valid_until"):
                if typed.get(f"{name}.{bound}"):
                    rule[bound] = typed[f"{name}.{bound}"]
            form.data["rules"].append(rule)
            form.names["rules"].append(name)
    for j in range(row_count(typed, "exceptions", 0)):
        name = f"exceptions.{j}"
        if typed.get(f"{name}.remove"):
            continue
        start = typed.get(f"{name}.start", "").strip()
        end = typed.get(f"{name}.end", "").strip()
        if not _both(form, name, start, end, "date and time"):
            continue
        start_at = _local(form, f"{name}.start", start, zone)
        end_at = _local(form, f"{name}.end", end, zone)
        if start_at is None or end_at is None:
            continue
        form.data["exceptions"].append(
            {
                "kind": typed.get(f"{name}.kind") or "time_off",
                "start": start_at,
                "end": end_at,
                "note": typed.get(f"{name}.note", ""),
                "service_ids": _services(typed.get(f"{name}.services", "")),
            }
        )
        form.names["exceptions"].append(name)
    return form


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _friendly(api_field: str, message: str) -> str:
    if api_field.endswith((".start", ".end")) and "valid time" in message:
        return "enter a time as hours and minutes, like 09:00"
    return message


def add_errors(form: HoursForm, failed: ValidationFailed) -> None:
    """Put the API's field errors next to the inputs they are about."""
    for api_field, message in forms.errors_of(failed).items():
        form.errors.setdefault(form.field_of(api_field), _friendly(api_field, message))


def typed_from(
    rules: list[RuleRow],
    exceptions: list[ExceptionRow],
    zone: ZoneInfo,
) -> dict[str, str]:
    """The stored hours as the form shows them."""
    typed: dict[str, str] = {}
    for index, weekday in enumerate(WEEKDAYS):
        for i, rule in enumerate(r for r in rules if r.weekday == index):
            name = f"hours.{weekday}.{i}"
            typed[f"{name}.start"] = rule.start_time.strftime("%H:%M")
            typed[f"{name}.end"] = rule.end_time.strftime("%H:%M")
            if rule.service_ids is not None:
                typed[f"{name}.services"] = ",".join(str(s) for s in rule.service_ids)
            if rule.valid_from:
                typed[f"{name}.valid_from"] = rule.valid_from.isoformat()
            if rule.valid_until:
                typed[f"{name}.valid_until"] = rule.valid_until.isoformat()
    for j, exception in enumerate(exceptions):
        name = f"exceptions.{j}"
        typed[f"{name}.kind"] = exception.kind
        typed[f"{name}.start"] = exception.start.astimezone(zone).strftime(LOCAL_DATETIME)
        typed[f"{name}.end"] = exception.end.astimezone(zone).strftime(LOCAL_DATETIME)
        typed[f"{name}.note"] = exception.note
        if exception.service_ids is not None:
            typed[f"{name}.services"] = ",".join(str(s) for s in exception.service_ids)
    return typed


def _restriction(typed: Mapping[str, str], name: str, services: Mapping[int, Service]) -> str:
    """What limits a stored row beyond its times (set through the API), in words."""
    parts = []
    ids = _services(typed.get(f"{name}.services", ""))
    if ids is not None:
        names = [
            services[int(i)].name if i.isdigit() and int(i) in services else f"service {i}"
            for i in ids
        ]
        parts.append("only for " + (", ".join(names) or "no service"))
    if typed.get(f"{name}.valid_from"):
        parts.append(f"from {typed[f'{name}.valid_from']}")
    if typed.get(f"{name}.valid_until"):
        parts.append(f"until {typed[f'{name}.valid_until']}")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def _page(
    request: web.Request,
    consultant: Consultant,
    services: Mapping[int, Service],
    typed: Mapping[str, str],
    errors: Mapping[str, str],
    *,
    blank_periods: int,
    status: int = 200,
) -> web.Response:
    hour_rows = {w: row_count(typed, f"hours.{w}", HOUR_ROWS) for w in WEEKDAYS}
    periods = row_count(typed, "exceptions", 0) + blank_periods
    names = [f"hours.{w}.{i}" for w in WEEKDAYS for i in range(hour_rows[w])]
    names += [f"exceptions.{j}" for j in range(periods)]
    labels = {"form": "Availability"}
    for w in WEEKDAYS:
        for i in range(hour_rows[w]):
            for part, word in (("start", "from"), ("end", "to")):
                labels[f"hours.{w}.{i}.{part}"] = f"{w.capitalize()}, time range {i + 1}, {word}"
    for j in range(periods):
        for part, word in (
            ("kind", "kind"),
            ("start", "starts"),
            ("end", "ends"),
            ("note", "note"),
        ):
            labels[f"exceptions.{j}.{part}"] = f"Period {j + 1}, {word}"
    return render(
        request,
        "hub/availability.html",
        {
            "consultant": consultant,
            "zone_label": zone_label(consultant.timezone, now_of(request)),
            "weekdays": WEEKDAYS,
            "hour_rows": hour_rows,
            "periods": periods,
            "kinds": KINDS,
            "values": typed,
            "errors": errors,
            "labels": labels,
            "restrictions": {n: r for n in names if (r := _restriction(typed, n, services))},
        },
        status=status,
    )


@routes.get("/hub/availability", name="hub_availability")
async def availability_page(request: web.Request) -> web.Response:
    """The weekly hours and time off, ready to edit."""
    _, consultant_id = consultant_user(request)
    async with unit_of_work(request) as conn:
        consultant, rules, exceptions = await availability.hours_of(conn, consultant_id)
        services = await views.services_by_id(conn, consultant.service_ids)
    typed = typed_from(rules, exceptions, ZoneInfo(consultant.timezone))
    return _page(request, consultant, services, typed, {}, blank_periods=BLANK_PERIODS)


@routes.post("/hub/availability", name="hub_availability_save")
async def save_availability(request: web.Request) -> web.Response:
    """Replace the weekly hours and time off; on a mistake, show it and keep what was typed."""
    user, consultant_id = consultant_user(request)
    typed = await forms.typed_form(request)
    async with unit_of_work(request) as conn:
        consultant = await views.consultant(conn, consultant_id)
        services = await views.services_by_id(conn, consultant.service_ids)
    form = read_hours(typed, ZoneInfo(consultant.timezone))
    try:
        parsed: AvailabilityIn | None = validate(AvailabilityIn, form.data)
    except ValidationFailed as failed:
        add_errors(form, failed)
        parsed = None
    if parsed is not None and not form.errors:
        rules, exceptions = parsed.rows()
        try:
            async with unit_of_work(request) as conn:
                await availability.publish(
                    conn, user.caller, consultant_id, rules, exceptions, now=now_of(request)
                )
        except ValidationFailed as failed:
            add_errors(form, failed)
        else:
            raise await see_other(
                request,
                url_for(request, "hub_availability"),
                f"Your availability is saved: {_count(len(rules), 'weekly time range')} and "
                f"{_count(len(exceptions), 'period')} of time off or extra hours.",
            )
    return _page(request, consultant, services, typed, form.errors, blank_periods=0, status=422)
