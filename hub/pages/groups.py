"""The counselor's group pages: my groups, and one occurrence's roster, attendance (one form,
a row of choices per patient, one Save) and a note per attending patient, all on one screen.

Attendance is read into the attendance API's own model (AttendanceIn); each patient's note is
the consult-note form of `note_editor`, its subject that patient's seat, so signing follows the
same rules as every note and the note goes to that patient's clinic alone.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from consults.note_store import Subject
from consults.schemas import NoteIn
from hub import group_views, views
from hub.group_views import OccurrenceView
from hub.pages.common import consultant_user, zone_label
from hub.pages.note_editor import editor, notice_for, read_note_form, save_note
from scheduling import attendance
from scheduling.attendance_schemas import AttendanceIn
from telehub import forms
from telehub.errors import Conflict, NotFound, ValidationFailed
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.web import render, see_other, url_for

routes = web.RouteTableDef()

CHOICES = (("attended", "Attended"), ("no_show", "No-show"), ("excused", "Excused"))


def _position(request: web.Request) -> int:
    text = request.match_info["position"]
    if not text.isdigit() or not 1 <= int(text) <= 52:
        raise NotFound("no such occurrence of the group")
    return int(text)


@routes.get("/hub/groups", name="hub_groups")
async def my_groups(request: web.Request) -> web.Response:
    """My groups: each occurrence of the last two weeks and the next five, seats taken."""
    _, consultant_id = consultant_user(request)
    now = now_of(request)
    async with unit_of_work(request) as conn:
        consultant = await views.consultant(conn, consultant_id)
        found = await group_views.my_occurrences(conn, consultant_id, now)
    return render(
        request,
        "hub/groups.html",
        {
            "consultant": consultant,
            "zone_label": zone_label(consultant.timezone, now),
            "occurrences": found,
            "now": now,
        },
    )


async def occurrence_page(
    request: web.Request,
    group_id: uuid.UUID,
    position: int,
    *,
    marks: forms.Filled[AttendanceIn] | None = None,
    note_for: tuple[uuid.UUID, forms.Filled[NoteIn]] | None = None,
    status: int = 200,
) -> web.Response:
    """The roster with its attendance form, and a note editor per attending patient."""
    user, consultant_id = consultant_user(request)
    caller, now = user.caller, now_of(request)
    async with unit_of_work(request) as conn:
        consultant = await views.consultant(conn, consultant_id)
        shown = await group_views.occurrence(
            conn, caller, trail_of(request, caller), group_id, position
        )
    amend = request.query.get("amend", "")
    editors = _editors(request, shown, note_for, amend)
    # A refused note whose patient has no editor here (not recorded as attended) says why.
    lost = note_for is not None and note_for[0] not in editors
    note_problem = next(iter(note_for[1].errors.values()), None) if lost and note_for else None
    return render(
        request,
        "hub/group_occurrence.html",
        {
            "consultant": consultant,
            "zone_label": zone_label(consultant.timezone, now),
            "shown": shown,
            "o": shown.occurrence,
            "started": shown.occurrence.start <= now,
            "choices": CHOICES,
            "marks": marks.values if marks else _recorded(shown),
            "mark_errors": marks.errors if marks else {},
            "editors": editors,
            "note_problem": note_problem,
        },
        status=status,
    )


def _recorded(shown: OccurrenceView) -> dict[str, str]:
    """The form's values as recorded so far (a seat still 'expected' has none chosen)."""
    return {
        f"seat.{r.seat.seat_no}": r.seat.attendance
        for r in shown.rows
        if r.seat.attendance != "expected"
    }


def _editors(
    request: web.Request,
    shown: OccurrenceView,
    note_for: tuple[uuid.UUID, forms.Filled[NoteIn]] | None,
    amend: str,
) -> dict[uuid.UUID, dict[str, Any]]:
    """A note editor per attending patient, the one just refused showing what was typed."""
    o = shown.occurrence
    return {
        r.seat.id: editor(
            r.versions,
            note_for[1] if note_for and note_for[0] == r.seat.id else None,
            amend=amend == str(r.seat.seat_no),
            action=url_for(
                request, "hub_group_note", id=o.group_id, position=o.position, seat=r.seat.id
            ),
            counseling=True,
        )
        for r in shown.rows
        if r.seat.attendance == "attended"
    }


@routes.get("/hub/groups/{id}/occurrences/{position}", name="hub_group_occurrence")
async def occurrence(request: web.Request) -> web.Response:
    """One occurrence: who holds a seat, from which clinic, whether they came, their notes."""
    return await occurrence_page(request, uuid_param(request, "id"), _position(request))


def _marks_of(typed: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The posted choices as AttendanceIn's body, and which input each mark came from."""
    chosen = sorted(
        (int(name.removeprefix("seat.")), value)
        for name, value in typed.items()
        if name.startswith("seat.") and name.removeprefix("seat.").isdigit() and value
    )
    body = {"attendance": [{"seat": n, "attendance": value} for n, value in chosen]}
    return body, [f"seat.{n}" for n, _ in chosen]


def _placed(failed: ValidationFailed, inputs: list[str]) -> dict[str, str]:
    """Errors about `attendance.2.…` shown at the row of the patient the third mark names."""
    errors: dict[str, str] = {}
    for error in failed.errors or []:
        parts = error.field.split(".")
        at = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        name = inputs[at] if at is not None and at < len(inputs) else "attendance"
        errors.setdefault(name, forms.plain(error.detail))
    return errors or {"attendance": failed.detail}


@routes.post("/hub/groups/{id}/occurrences/{position}/attendance", name="hub_group_attendance")
async def save_attendance(request: web.Request) -> web.Response:
    """Save every patient's attendance at once; a refused mark is named at its row."""
    user, _ = consultant_user(request)
    group_id, position = uuid_param(request, "id"), _position(request)
    typed = await forms.typed_form(request)
    body, inputs = _marks_of(typed)
    parsed, errors = forms.check(AttendanceIn, body, ())
    if parsed is None:
        if not inputs:
            errors = {"attendance": "Choose attended, no-show or excused for a patient."}
        else:
            errors = {inputs[0] if len(inputs) == 1 else "attendance": next(iter(errors.values()))}
        shown = forms.Filled[AttendanceIn](None, typed, errors)
        return await occurrence_page(request, group_id, position, marks=shown, status=422)
    caller = user.caller
    try:
        async with unit_of_work(request) as conn:
            recorded = await attendance.record(
                conn,
                caller,
                trail_of(request, caller),
                group_id,
                position,
                parsed.attendance,
                now=now_of(request),
            )
    except ValidationFailed as failed:
        shown = forms.Filled[AttendanceIn](None, typed, _placed(failed, inputs))
        return await occurrence_page(request, group_id, position, marks=shown, status=422)
    except Conflict as conflict:
        shown = forms.Filled[AttendanceIn](None, typed, {"attendance": conflict.detail})
        return await occurrence_page(request, group_id, position, marks=shown, status=409)
    came = sum(1 for s in recorded.seats if s.attendance == "attended")
    notice = f"Attendance saved for {len(inputs)} of {len(recorded.seats)} patients."
    if came:
        notice += " Write the note of each patient who attended below."
    page = url_for(request, "hub_group_occurrence", id=group_id, position=position)
    raise await see_other(request, page, notice)


@routes.post("/hub/groups/{id}/occurrences/{position}/seats/{seat}/note", name="hub_group_note")
async def save_group_note(request: web.Request) -> web.Response:
    """Save (or save and sign) one attending patient's note: it reaches their clinic alone."""
    user, _ = consultant_user(request)
    group_id, position = uuid_param(request, "id"), _position(request)
    seat_id = uuid_param(request, "seat")
    typed, note_id, action = await read_note_form(request)
    subject = Subject(group_seat_id=seat_id)
    outcome = await save_note(request, user, subject, typed, note_id, sign=action == "sign")
    if outcome.note is None:
        assert outcome.retry is not None
        return await occurrence_page(
            request, group_id, position, note_for=(seat_id, outcome.retry), status=outcome.status
        )
    page = url_for(request, "hub_group_occurrence", id=group_id, position=position)
    notice = notice_for(outcome.note, signed=outcome.note.signed_at is not None)
    raise await see_other(request, f"{page}#seat-{seat_id}", notice)
