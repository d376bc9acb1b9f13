"""42 CFR part 2 in one place: the notice every disclosure carries, the security labels of a
disclosed note (HL7 DS4P), and the kinds of note a consent covers.

The notice is the rule's own abbreviated wording (42 CFR 2.32(a)(2)); the labels follow the
HL7 FHIR Data Segmentation for Privacy guide (DS4P 1.0.0): a restricted confidentiality, the
42 CFR Part 2 policy, substance use disorder information sensitivity, and the obligation
that the recipient not redisclose without consent.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

NOTICE: Final = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."

CONFIDENTIALITY: Final = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ACT_CODE: Final = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
# (system, code, display) of each label a disclosed consult note carries.
SECURITY_LABELS: Final[tuple[tuple[str, str, str], ...]] = (
    (CONFIDENTIALITY, "R", "restricted"),
    (ACT_CODE, "42CFRPart2", "42 CFR Part2"),
    (ACT_CODE, "SUD", "substance use disorder information sensitivity"),
    (ACT_CODE, "NORDSCLCD", "no redisclosure without consent directive"),
)

# What a consent may cover: the kinds of consult note. A counseling note (a kind the
# counselor chooses for a session's or a group's note) is disclosed only under a
# `counseling_notes` consent, which covers nothing else.
NoteCategory = Literal[
    "econsult_answer",
    "session_note",
    "group_session_note",
    "case_review_recommendation",
    "counseling_note",
]
NOTE_CATEGORIES: Final[tuple[NoteCategory, ...]] = get_args(NoteCategory)
ConsentKind = Literal["tpo", "specific", "counseling_notes"]


def security_labels() -> list[dict[str, str]]:
    """The labels as FHIR Coding-shaped objects, for payloads and bodies."""
    return [{"system": s, "code": c, "display": d} for s, c, d in SECURITY_LABELS]


def needed_kinds(category: NoteCategory) -> tuple[ConsentKind, ...]:
    """The consent kinds that can cover a note of this category."""
    if category == "counseling_note":
        return ("counseling_notes",)
    return ("tpo", "specific")
