"""The page toolkit: errors in plain words, at their input, in the order the form shows them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from telehub import forms
from telehub.errors import FieldError, ValidationFailed
from telehub.validation import Input


class Visit(Input):
    """A small form's model: three inputs, one nested list."""

    name: Annotated[str, Field(min_length=1, max_length=20)]
    minutes: Annotated[int, Field(ge=15, le=120)]
    services: Annotated[list[int], Field(min_length=1)]


NAMES = ("name", "minutes", "services")


def test_errors_come_in_plain_words_in_form_order() -> None:
    parsed, errors = forms.check(Visit, {"services": ["x"], "minutes": 5}, NAMES)
    assert parsed is None
    assert list(errors) == ["name", "minutes", "services"]
    assert errors == {
        "name": "is required",
        "minutes": "must be 15 or more",
        "services": "must be a whole number",
    }


def test_a_nested_error_is_placed_at_its_input() -> None:
    failed = ValidationFailed(
        "bad", errors=[FieldError("services.1", "Input should be a valid integer")]
    )
    assert forms.errors_of(failed, NAMES) == {"services": "must be a whole number"}


def test_an_error_about_no_input_keeps_its_field_and_comes_first() -> None:
    failed = ValidationFailed(
        "bad", errors=[FieldError("minutes", "too long"), FieldError("period", "overlaps another")]
    )
    assert list(forms.errors_of(failed, NAMES)) == ["period", "minutes"]


def test_a_refusal_without_field_errors_is_about_the_form() -> None:
    assert forms.errors_of(ValidationFailed("That time is taken")) == {"form": "That time is taken"}


def test_a_valid_form_parses() -> None:
    parsed, errors = forms.check(Visit, {"name": "Ana", "minutes": "30", "services": ["1"]})
    assert errors == {}
    assert parsed is not None and parsed.services == [1]


def test_fields_are_named_by_their_label_never_by_their_code() -> None:
    assert forms.field_label("spoke_id") == "Clinic"
    assert forms.field_label("url") == "Webhook address"
    assert forms.field_label("url", {"url": "Where notes are sent"}) == "Where notes are sent"
    assert forms.field_label("clinical_context.referral_source_id") == "Referral source"


def test_value_errors_lose_pydantic_s_prefix() -> None:
    assert forms.plain("Value error, ranges overlap") == "ranges overlap"
