"""One e-consult's case page as the consultant sees it (no routes: its routes render it).

The question, the clinic's structured context in words, the thread with the clinic, and the
note editor; a form shown again keeps what was typed and what to fix.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from consults import econsults
from consults.schemas import MessageIn, NoteIn
from hub import views
from hub.pages.common import consultant_user, zone_label
from hub.pages.note_editor import editor
from telehub import forms
from telehub.request import now_of, trail_of, unit_of_work
from telehub.web import render, url_for

MOUD = {
    "none": "None",
    "buprenorphine": "Buprenorphine",
    "buprenorphine_naloxone": "Buprenorphine/naloxone",
    "buprenorphine_extended_release": "Extended-release buprenorphine (injection)",
    "methadone": "Methadone",
    "naltrexone_extended_release": "Extended-release naltrexone (injection)",
    "other": "Other",
}
# Published severity bands of the two screening scores.
PHQ9 = ((20, "severe"), (15, "moderately severe"), (10, "moderate"), (5, "mild"), (0, "minimal"))
GAD7 = ((15, "severe"), (10, "moderate"), (5, "mild"), (0, "minimal"))
SCREEN = (("positive", "Positive for"), ("negative", "Negative for"), ("not_tested", "Not tested"))
MESSAGE_LABELS = {"body": "Message", "asks_clinic": "Waiting on the clinic", "message": "Message"}


def _score(value: Any, top: int, bands: tuple[tuple[int, str], ...]) -> str | None:
    if not isinstance(value, int):
        return None
    band = next(name for floor, name in bands if value >= floor)
    return f"{value} of {top}: {band}"


def _moud(moud: Mapping[str, Any] | None) -> str | None:
    if not moud:
        return None
    text = MOUD.get(str(moud.get("medication")), str(moud.get("medication", "")))
    if moud.get("daily_dose_mg") is not None:
        text += f", {float(moud['daily_dose_mg']):g} mg a day"
    if moud.get("since"):
        text += f", since {moud['since']}"
    return text


def _screen(uds: Mapping[str, Any] | None) -> str | None:
    if not uds:
        return None
    results: Mapping[str, str] = uds.get("results") or {}
    parts = [
        f"{label} {', '.join(sorted(s for s, r in results.items() if r == value))}"
        for value, label in SCREEN
        if value in results.values()
    ]
    text = "; ".join(parts) or "no results given"
    return f"Collected {uds['collected_on']}: {text}" if uds.get("collected_on") else text


def _pain(pain: Mapping[str, Any] | None) -> str | None:
    if not pain:
        return None
    if not pain.get("present"):
        return "No pain reported"
    parts = ["Present"]
    if pain.get("score") is not None:
        parts.append(f"{pain['score']} of 10")
    if pain.get("notes"):
        parts.append(str(pain["notes"]))
    return ", ".join(parts)


def clinical_context(ctx: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """The clinic's structured context as (label, readable text or None when not given)."""
    return [
        ("Current MOUD", _moud(ctx.get("current_moud"))),
        ("PHQ-9 (depression)", _score(ctx.get("phq9"), 27, PHQ9)),
        ("GAD-7 (anxiety)", _score(ctx.get("gad7"), 21, GAD7)),
        ("Co-occurring diagnoses", "; ".join(ctx.get("co_occurring_diagnoses") or []) or None),
        ("Urine drug screen", _screen(ctx.get("urine_drug_screen"))),
        ("Pain", _pain(ctx.get("pain"))),
        (
            "Psychosocial needs",
            ", ".join(n.replace("_", " ") for n in ctx.get("psychosocial_needs") or []) or None,
        ),
        ("Family involvement", ctx.get("family_involvement") or None),
        ("Other", ctx.get("other") or None),
    ]


async def econsult_page(
    request: web.Request,
    econsult_id: uuid.UUID,
    *,
    note: forms.Filled[NoteIn] | None = None,
    message: forms.Filled[MessageIn] | None = None,
    amend: bool = False,
    status: int = 200,
) -> web.Response:
    """The case page, optionally showing a form again with what was typed and what to fix."""
    user, consultant_id = consultant_user(request)
    caller, now = user.caller, now_of(request)
    trail = trail_of(request, caller)
    async with unit_of_work(request) as conn:
        consultant = await views.consultant(conn, consultant_id)
        shown = await views.case(conn, caller, trail, econsult_id)
    econsult = shown.econsult
    return render(
        request,
        "hub/econsult.html",
        {
            "consultant": consultant,
            "zone_label": zone_label(consultant.timezone, now),
            "econsult": econsult,
            "overdue": econsults.is_overdue(econsult, now),
            "patient": shown.patient,
            "spoke": shown.spoke,
            "service": shown.service,
            "context": clinical_context(econsult.clinical_context),
            "thread": shown.thread,
            "me": caller.actor,
            "message": message or forms.Filled[MessageIn](),
            "message_labels": MESSAGE_LABELS,
            "can_write": econsult.status not in ("closed", "cancelled"),
            "editor": editor(
                shown.versions,
                note,
                amend=amend,
                action=url_for(request, "hub_econsult_note", id=econsult.id),
            ),
        },
        status=status,
    )
