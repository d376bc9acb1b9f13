"""The words people read for the service's codes: kinds, roles, statuses. One table each.

Templates use the `label` filter: `{{ service.kind | label("kind") }}`,
`{{ booking.status | label("status", "clinic") }}`. Code uses `label(value, vocabulary)`.
A code with no label is shown as itself, spaces for underscores, never as a blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, get_args

from care.rules import Adherence, Flag, Program
from consults.part2 import ConsentKind, NoteCategory
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
# The collaborative care registry (care/): `{{ row.flags[0] | label("flag") }}`.
PROGRAMS: Final[Mapping[str, str]] = {
    "collaborative_care": "Collaborative care",
    "oud": "Opioid use disorder (MOUD)",
}
FLAGS: Final[Mapping[str, str]] = {
    "safety": "Safety: PHQ-9 item 9 answered above 0",
    "not_improving": "Not improving after 10 weeks",
    "moud_gap": "Missed or stopped medication",
    "positive_screen": "Unexpected substance on a drug screen",
    "no_contact": "No contact in 4 weeks",
    "new": "New (first 2 weeks)",
    "never_reviewed": "Never reviewed by the consultant",
}
MEASURE_KINDS: Final[Mapping[str, str]] = {
    "phq9": "PHQ-9 (depression)",
    "gad7": "GAD-7 (anxiety)",
    "moud": "Medication adherence (MOUD)",
    "urine_drug_screen": "Urine drug screen",
}
ADHERENCE: Final[Mapping[str, str]] = {
    "taking_as_prescribed": "Taking as prescribed",
    "missed_doses": "Missed doses",
    "stopped": "Stopped",
}
CONTACT_KINDS: Final[Mapping[str, str]] = {
    "phone": "Phone",
    "video": "Video",
    "in_person": "In person",
    "case_review": "Case review",
}
END_REASONS: Final[Mapping[str, str]] = {
    "remission": "Remission",
    "transferred": "Transferred",
    "lost_to_follow_up": "Lost to follow-up",
    "declined": "Declined further care",
}
RECOMMENDATION_CHOICES: Final[Mapping[str, str]] = {
    "no_change": "No change",
    "adjust_medication": "Adjust medication",
    "add_psychotherapy": "Add psychotherapy",
    "refer": "Refer",
    "step_up_care": "Step up care",
}
# PHQ-9 and GAD-7 bands share their words (care/rules.py gives the bands).
SEVERITIES: Final[Mapping[str, str]] = {
    "minimal": "Minimal",
    "mild": "Mild",
    "moderate": "Moderate",
    "moderately_severe": "Moderately severe",
    "severe": "Severe",
}
# Medication for opioid use disorder (the e-consult form's and the registry's MoudMedication).
MOUD_MEDICATIONS: Final[Mapping[str, str]] = {
    "none": "None",
    "buprenorphine": "Buprenorphine",
    "buprenorphine_naloxone": "Buprenorphine/naloxone",
    "buprenorphine_extended_release": "Buprenorphine extended-release injection",
    "methadone": "Methadone",
    "naltrexone_extended_release": "Naltrexone extended-release injection",
    "other": "Other",
}
# Part 2 consent (spokes/consents.py): its kinds, its status, what it covers, how a
# revocation came to the clinic.
CONSENT_KINDS: Final[Mapping[str, str]] = {
    "tpo": "Treatment, payment and health care operations",
    "specific": "A specific purpose",
    "counseling_notes": "Counseling notes",
}
CONSENT_STATUSES: Final[Mapping[str, str]] = {
    "active": "Active",
    "expiring": "Expiring soon",
    "expired": "Expired",
    "revoked": "Revoked",
    "not_yet_in_force": "Not yet in force",
    "none": "No consent",
}
NOTE_CATEGORIES: Final[Mapping[str, str]] = {
    "econsult_answer": "E-consult answers",
    "session_note": "Session notes",
    "group_session_note": "Group session notes",
    "case_review_recommendation": "Case review recommendations",
    "counseling_note": "Counseling notes",
}
REVOKED_HOW: Final[Mapping[str, str]] = {
    "written": "In writing",
    "verbal": "Verbally",
    "electronic": "Electronically",
}
VOCABULARIES: Final[Mapping[str, Mapping[str, str]]] = {
    "kind": KINDS,
    "consultant_role": CONSULTANT_ROLES,
    "user_role": USER_ROLES,
    "urgency": URGENCY,
    "program": PROGRAMS,
    "flag": FLAGS,
    "measure_kind": MEASURE_KINDS,
    "adherence": ADHERENCE,
    "contact_kind": CONTACT_KINDS,
    "end_reason": END_REASONS,
    "recommendation_choice": RECOMMENDATION_CHOICES,
    "severity": SEVERITIES,
    "moud_medication": MOUD_MEDICATIONS,
    "consent_kind": CONSENT_KINDS,
    "consent_status": CONSENT_STATUSES,
    "note_category": NOTE_CATEGORIES,
    "revoked_how": REVOKED_HOW,
}
assert set(KINDS) == set(get_args(ServiceKind))
assert set(CONSULTANT_ROLES) == set(get_args(ConsultantRole))
assert set(PROGRAMS) == set(get_args(Program))
assert set(FLAGS) == set(get_args(Flag))
assert set(ADHERENCE) == set(get_args(Adherence))
assert set(CONSENT_KINDS) == set(get_args(ConsentKind))
assert set(NOTE_CATEGORIES) == set(get_args(NoteCategory))


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
