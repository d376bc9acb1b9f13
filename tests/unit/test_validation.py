"""Reading requests: one-line and multi-line text fields, and JSON within limits."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field, ValidationError

from telehub.fields import ONE_LINE_PATTERN, OneLine, Text
from telehub.validation import MAX_JSON_DEPTH, decode_json


class Named(BaseModel):
    name: OneLine = Field(max_length=20)
    about: Text = ""


@pytest.mark.parametrize(
    "name",
    [
        "Dr Ada\nLovelace",
        "Riverside\r",
        "Tab\there",
        "NUL\x00",
        "Next\x85line",
        "Line\u2028separator",
        "Bidi\u202eoverride",
        "Zero\u200bwidth",
        "BOM\ufeff",
    ],
)
def test_a_one_line_field_refuses_what_breaks_or_hides_a_line(name: str) -> None:
    with pytest.raises(ValidationError, match="one line"):
        Named(name=name)


@pytest.mark.parametrize(
    "name", ["Dr Ada Lovelace", "Zoë Ñúñez-O'Brien", "श्री\u200dमती", "MD, FASAM"]
)
def test_a_one_line_field_takes_real_names(name: str) -> None:
    assert Named(name=name).name == name


def test_multi_line_text_keeps_lines_and_tabs_but_refuses_other_controls() -> None:
    assert Named(name="x", about="line one\r\n\tline two").about == "line one\r\n\tline two"
    with pytest.raises(ValidationError, match="tab and line breaks only"):
        Named(name="x", about="ring\x07the bell")


def test_the_schema_says_what_a_one_line_field_takes() -> None:
    schema = Named.model_json_schema()["properties"]["name"]
    assert schema["pattern"] == ONE_LINE_PATTERN and schema["maxLength"] == 20


def test_json_nested_deeper_than_the_limit_is_refused_before_parsing() -> None:
    assert decode_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)
    with pytest.raises(ValueError, match="levels deep"):
        decode_json("[" * 1200 + "]" * 1200)


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    text = '{"note": "' + "[{" * 100 + '\\"]"}'
    assert decode_json(text) == {"note": "[{" * 100 + '"]'}


@pytest.mark.parametrize(
    "text", ["9" * 5000, "1e" + "9" * 50, "1e400", "NaN", "-Infinity", '{"a": [Infinity]}']
)
def test_numbers_too_long_out_of_range_or_not_json_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        decode_json(text)


def test_ordinary_numbers_are_read() -> None:
    assert decode_json(b'{"id": 4611686018427387904, "dose": 12.5}') == {
        "id": 4611686018427387904,
        "dose": 12.5,
    }
