"""The words people read for the service's codes: kinds, roles, statuses. One table each.

Templates use the `label` filter: `{{ service.kind | label("kind") }}`,
`{{ booking.status | label("status", "clinic") }}`. Code uses `label(value, vocabulary)`.
A code with no label is shown as itself, spaces for underscores, never as a blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, get_args

from telehub.fields import ConsultantRole, ServiceKind

KINDS: Final[Mapping[str, str]] = {
    "econsult": "E-consult",
    "video_session": "Video session",
    "case_review": "Case review",
    "group_session": "Group session",
}
CONSULTANT_ROLES: Final[Mapping[str, str]] = {
    "psychiatric_consultant": "Psychiatric consultant",
    "addiction_medicine_specialist": "Addiction medicine specialist",
    "telehealth_counselor": "Telehealth counselor",
    "peer_recovery_specialist": "Peer recovery specialist",
}
USER_ROLES: Final[Mapping[str, str]] = {
    "hub_admin": "Hub administrator",
    "hub_coordinator": "Hub coordinator",
    "consultant": "Consultant",
    "spoke_scheduler": "Clinic scheduler",
    "spoke_clinician": "Clinic clinician",
    "care_manager": "Care manager",
}
# A status reads differently on each side of the loop: "waiting on your answer" to the clinic
# is "awaiting clinic (clock paused)" to the consultant.
_STATUS: Final[Mapping[str, str]] = {
    "booked": "booked",
    "cancelled": "cancelled",
    "completed": "completed",
    "no_show": "no-show",
    "submitted": "submitted",
    "answered": "answered",
    "closed": "closed",
    "draft": "draft",
    "signed": "signed",
    "pending": "waiting to send",
    "delivered": "delivered",
    "failed": "failed",
    # A group's occurrence, and a patient's seat in one (attendance).
    "scheduled": "scheduled",
    "expected": "expected",
    "excused": "excused",
    "attended": "attended",
    "released": "seat released",
}
# Waitlists (a full group's, and the 1:1 "tell me of an earlier time"): "assigned" here is a
# seat given, not an e-consult with a consultant, so they are a vocabulary of their own:
# `{{ entry.status | label("waitlist_status", "clinic") }}`.
WAITLIST_STATUS_BY_AUDIENCE: Final[Mapping[str, Mapping[str, str]]] = {
    "clinic": {
        "waiting": "on the waitlist",
        "assigned": "given a seat",
        "left": "left the waitlist",
        "told": "told of an open time",
    },
    "hub": {
        "waiting": "on the waitlist",
        "assigned": "seat given",
        "left": "left the list",
        "told": "clinic told",
    },
}
STATUS_BY_AUDIENCE: Final[Mapping[str, Mapping[str, str]]] = {
    "clinic": {
        **_STATUS,
        "waiting": "on the waitlist",
        "left": "left the waitlist",
        "told": "told of an open time",
        "assigned": "with a consultant",
        "awaiting_clinic": "waiting on your answer",
    },
    "hub": {
        **_STATUS,
        "waiting": "on the waitlist",
        "left": "left the list",
        "told": "clinic told",
        "assigned": "to answer",
        "awaiting_clinic": "awaiting clinic (clock paused)",
    },
}
URGENCY: Final[Mapping[str, str]] = {"routine": "Routine", "urgent": "Urgent"}
VOCABULARIES: Final[Mapping[str, Mapping[str, str]]] = {
    "kind": KINDS,
    "consultant_role": CONSULTANT_ROLES,
    "user_role": USER_ROLES,
    "urgency": URGENCY,
}
assert set(KINDS) == set(get_args(ServiceKind))
assert set(CONSULTANT_ROLES) == set(get_args(ConsultantRole))


def label(value: object, vocabulary: str, audience: str = "clinic") -> str:
    """The words for a code: `label("video_session", "kind")` is "Video session"."""
    by_audience = {"status": STATUS_BY_AUDIENCE, "waitlist_status": WAITLIST_STATUS_BY_AUDIENCE}
    table = (
        by_audience[vocabulary][audience] if vocabulary in by_audience else VOCABULARIES[vocabulary]
    )
    code = str(value)
    return table.get(code) or code.replace("_", " ")


def options(vocabulary: str) -> list[tuple[str, str]]:
    """A vocabulary as a select's (value, text) options, in its table's order."""
    return list(VOCABULARIES[vocabulary].items())
