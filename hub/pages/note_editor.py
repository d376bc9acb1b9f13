"""The consult-note editor shared by the e-consult page and the session-note page.

A note is drafted (version 1), signed (final, and sent to the clinic), and amended as a new
draft version. The form is flat (`sections.recommendations.moud`); it is validated with the
API's `NoteIn`, and the domain's refusals come back next to the fields they name.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from consults import notes
from consults.note_store import Note, Subject
from consults.schemas import NoteIn
from telehub import forms
from telehub.errors import Conflict, NotFound, ValidationFailed
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work
from telehub.users import User

RECOMMENDATIONS = (
    ("medications", "Medications", "Starts, changes or stops, with doses."),
    ("moud", "MOUD", "Medication for opioid use disorder: start, dose change, or induction plan."),
    ("therapy", "Therapy", "Counseling, psychotherapy or recovery support."),
    ("referrals", "Referrals", "Other services or specialists."),
)
TEXT_FIELDS = (
    "sections.assessment",
    *(f"sections.recommendations.{key}" for key, _, _ in RECOMMENDATIONS),
    "sections.follow_up",
)
VISIT = "sections.visit_recommended"
KIND = "kind"  # a session's or a group's note: a consult note or a counseling note
# The form's inputs in the order it shows them (the recommendations' fieldset among them).
NAMES = (
    KIND,
    "sections.assessment",
    "sections.recommendations",
    *TEXT_FIELDS[1:-1],
    "sections.follow_up",
    VISIT,
)
LABELS = {
    "sections.assessment": "Assessment",
    "sections.recommendations": "Recommendations",
    **{
        f"sections.recommendations.{k}": f"Recommendations: {label}"
        for k, label, _ in RECOMMENDATIONS
    },
    "sections.follow_up": "Follow-up",
    VISIT: "Visit recommended",
    KIND: "Kind of note",
    "sections": "Note",
    "note": "Note",
    "form": "Note",
}
TO_SIGN = {
    "sections.assessment": "Write the assessment before signing.",
    "sections.recommendations": "Write at least one recommendation before signing.",
    "sections.follow_up": "Write the follow-up plan before signing.",
}


def typed_of(sections: Mapping[str, Any]) -> dict[str, str]:
    """A note's stored sections as the form's flat values."""
    recommendations = sections.get("recommendations") or {}
    values = {
        "sections.assessment": str(sections.get("assessment", "")),
        "sections.follow_up": str(sections.get("follow_up", "")),
        **{
            f"sections.recommendations.{key}": str(recommendations.get(key, ""))
            for key, _, _ in RECOMMENDATIONS
        },
    }
    if sections.get("visit_recommended"):
        values[VISIT] = "true"
    return values


def sections_of(values: Mapping[str, str]) -> dict[str, Any]:
    """The form's flat values in NoteSections' nested shape."""
    return {
        "assessment": values.get("sections.assessment", ""),
        "recommendations": {
            key: values.get(f"sections.recommendations.{key}", "") for key, _, _ in RECOMMENDATIONS
        },
        "follow_up": values.get("sections.follow_up", ""),
        "visit_recommended": bool(values.get(VISIT)),
    }


def editor(
    versions: list[Note],
    typed: forms.Filled[NoteIn] | None,
    *,
    amend: bool,
    action: str,
    counseling: bool = False,
) -> dict[str, Any]:
    """What the note editor shows: a draft to edit, a new note, an amendment, or signed text.
    `counseling`: a session's or a group's note, which the counselor may mark as a counseling
    note (disclosed only under the patient's counseling-notes consent)."""
    draft = versions[-1] if versions and versions[-1].signed_at is None else None
    signed = [v for v in versions if v.signed_at is not None]
    if draft is not None:
        mode, source = "draft", draft.sections
    elif not signed:
        mode, source = "new", {}
    elif amend or typed is not None:
        mode, source = "amend", signed[-1].sections
    else:
        mode, source = "signed", {}
    next_version = draft.version if draft else (versions[-1].version + 1 if versions else 1)
    shown = typed.values if typed is not None else typed_of(source)
    if counseling and KIND not in shown:
        shown = {**shown, KIND: versions[-1].kind if versions else "consult"}
    return {
        "mode": mode,
        "draft": draft,
        "signed": signed,
        "version": next_version,
        "typed": shown,
        "counseling": counseling,
        "errors": typed.errors if typed is not None else {},
        "action": action,
        "recommendations": RECOMMENDATIONS,
        "labels": LABELS,
    }


async def read_note_form(
    request: web.Request,
) -> tuple[forms.Filled[NoteIn], uuid.UUID | None, str]:
    """The typed note (read into the API's NoteIn), the draft it edits, the button pressed."""
    posted = await forms.typed_form(request)
    values = {k: v for k, v in posted.items() if k in (*TEXT_FIELDS, VISIT, KIND)}
    note_text = posted.get("note_id", "")
    try:
        note_id = uuid.UUID(note_text) if note_text else None
    except ValueError:
        note_id = None
    body: dict[str, Any] = {"sections": sections_of(values)}
    if values.get(KIND):
        body[KIND] = values[KIND]
    parsed, errors = forms.check(NoteIn, body, NAMES)
    action = "sign" if posted.get("action") == "sign" else "save"
    return forms.Filled(parsed, values, errors), note_id, action


def shown_again(filled: forms.Filled[NoteIn], errors: dict[str, str]) -> forms.Filled[NoteIn]:
    """The form as typed, with what to fix (in form order)."""
    return forms.Filled(None, filled.values, forms.in_form_order(errors, NAMES))


@dataclass(frozen=True)
class Outcome:
    """How saving (and signing) went: the note, or what to show again and with which status."""

    note: Note | None
    retry: forms.Filled[NoteIn] | None = None
    status: int = 200


async def save_note(
    request: web.Request,
    user: User,
    subject: Subject,
    typed: forms.Filled[NoteIn],
    note_id: uuid.UUID | None,
    *,
    sign: bool,
) -> Outcome:
    """Save the draft (edit it, or start one: an amendment once a version is signed), or save
    and sign it at once: a note that cannot be signed is refused with nothing saved."""
    body = typed.parsed
    if body is None or typed.errors:
        return Outcome(None, typed, 422)
    caller, trail = user.caller, trail_of(request, user.caller)
    sections = body.sections.model_dump()
    try:
        async with unit_of_work(request) as conn:
            if sign:
                note = await notes.save_and_sign(
                    conn,
                    caller,
                    trail,
                    subject,
                    note_id,
                    sections,
                    base_url=request.app[SETTINGS].base_url,
                    now=now_of(request),
                    kind=body.kind,
                )
            elif note_id is not None:
                editing = await notes.get(conn, caller, trail, note_id)
                if subject_of(editing) != subject:
                    raise NotFound("no such note")
                note = await notes.edit_draft(conn, caller, trail, note_id, sections, body.kind)
            else:
                note = await notes.start_draft(conn, caller, trail, subject, sections, body.kind)
    except ValidationFailed as failed:
        return Outcome(None, shown_again(typed, _to_sign(failed)), 422)
    except Conflict as conflict:
        return Outcome(None, shown_again(typed, {"note": _conflict_advice(conflict.detail)}), 409)
    return Outcome(note)


def _to_sign(failed: ValidationFailed) -> dict[str, str]:
    """What signing needs, said as what to write."""
    errors = forms.errors_of(failed, NAMES)
    return {name: TO_SIGN.get(name, message) for name, message in errors.items()}


async def sign_note(
    request: web.Request, user: User, note: Note, typed: forms.Filled[NoteIn]
) -> Outcome:
    """Sign a saved draft; missing sections come back as field errors (the draft is kept)."""
    caller = user.caller
    settings = request.app[SETTINGS]
    try:
        async with unit_of_work(request) as conn:
            signed = await notes.sign(
                conn,
                caller,
                trail_of(request, caller),
                note.id,
                base_url=settings.base_url,
                now=now_of(request),
            )
    except ValidationFailed as failed:
        return Outcome(None, shown_again(typed, _to_sign(failed)), 422)
    except Conflict as conflict:
        return Outcome(None, shown_again(typed, {"note": _conflict_advice(conflict.detail)}), 409)
    return Outcome(signed)


def _conflict_advice(detail: str) -> str:
    if "signed" in detail:
        return (
            "This note was signed meanwhile and can no longer change. Your text is kept below: "
            "save it as an amendment (a new version) if the note should change."
        )
    if "draft" in detail:
        return (
            "Someone started a draft of this note meanwhile. Your text is kept below: saving "
            "it replaces that draft."
        )
    return detail[:1].upper() + detail[1:] + "."


def notice_for(note: Note, *, signed: bool) -> str:
    """What to say after a save or a signature."""
    if signed:
        return f"Note version {note.version} is signed and on its way to the clinic."
    return f"Draft saved (version {note.version}). It reaches the clinic once you sign it."


def subject_of(note: Note) -> Subject:
    """What a note is about."""
    return Subject.of(note)
