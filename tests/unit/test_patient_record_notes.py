"""A patient's record shows the latest signed version of each note: one per subject (an
e-consult, a session, a seat in a group session, a case review's recommendation)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from consults.note_store import Note
from spokes.care import Care
from spokes.store import Patient, Spoke

NOW = datetime(2027, 3, 1, 15, tzinfo=UTC)


def _note(version: int, signed_hours_ago: int, **subject: Any) -> Note:
    signed = NOW - timedelta(hours=signed_hours_ago)
    fields: dict[str, Any] = dict(
        econsult_id=None, booking_id=None, group_seat_id=None, recommendation_id=None
    )
    fields.update(subject)
    return Note(
        id=uuid.uuid4(),
        spoke_id=1,
        patient_id=uuid.uuid4(),
        consultant_id=1,
        version=version,
        sections={},
        created_at=signed,
        updated_at=signed,
        signed_at=signed,
        signed_by="user:1",
        acknowledged_at=None,
        acknowledged_by=None,
        **fields,
    )


def _record(notes: list[Note]) -> Care:
    spoke = Spoke.__new__(Spoke)
    patient = Patient.__new__(Patient)
    return Care(spoke, patient, [], [], [], notes, NOW, {}, {})


def test_each_subject_shows_its_latest_version_and_no_subject_hides_another() -> None:
    seat_a, seat_b = uuid.uuid4(), uuid.uuid4()
    review_a, review_b = uuid.uuid4(), uuid.uuid4()
    booking = uuid.uuid4()
    first, amended = _note(1, 9, booking_id=booking), _note(2, 8, booking_id=booking)
    seats = [_note(1, 7, group_seat_id=seat_a), _note(1, 6, group_seat_id=seat_b)]
    reviews = [_note(1, 5, recommendation_id=review_a), _note(1, 4, recommendation_id=review_b)]

    latest = _record([first, amended, *seats, *reviews]).latest_notes

    assert [n.id for n in latest] == [n.id for n in [*reversed(reviews), *reversed(seats)]] + [
        amended.id
    ]
