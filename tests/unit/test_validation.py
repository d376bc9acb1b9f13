"""Reading requests: one-line and multi-line text fields, and JSON within limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError

from telehub.fields import ONE_LINE_PATTERN, OneLine, Text
from telehub.validation import MAX_JSON_DEPTH, decode_json, nesting_depth


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


# Bodies built to make a string-matching scan backtrack: `"` then `\"` over and over was
# 12.6 s for 64 KB with the regex this scan replaced (quadratic). Each shape is made about
# `size` characters long; `depth` is how deep it really nests outside strings.
BODY_LIMIT = 256 * 1024


def _shapes(size: int) -> dict[str, tuple[str, int]]:
    n = size // 2
    return {
        "unterminated string of escaped quotes": ('"' + '\\"' * n, 0),
        "string of escaped quotes": ('{"a": "' + '\\"' * n + '"}', 1),
        "string of escaped backslashes": ('["' + "\\\\" * n + '"]', 1),
        "many empty strings": ("[" + '"",' * (size // 3) + '""]', 1),
        "quotes only": ('"' * size, 0),
        "open brackets": ("[" * size, MAX_JSON_DEPTH + 1),
        "open braces": ('{"a":' * (size // 5), MAX_JSON_DEPTH + 1),
        "nesting inside a string": ('{"a": "' + "[{" * n + '"}', 1),
        "nesting inside a string, then real nesting": (
            '{"a": "' + "[{" * n + '", "b": ' + "[" * 40 + "]" * 40 + "}",
            MAX_JSON_DEPTH + 1,
        ),
        "escaped quote then brackets": ('["\\"' + "[" * size + '"]', 1),
        "quote-bracket pairs": ("[" + '"[",' * (size // 4) + '"["]', 1),
    }


@pytest.mark.parametrize("shape", list(_shapes(0)))
def test_a_body_built_to_make_the_scan_backtrack_is_judged_like_the_parser_would(
    shape: str,
) -> None:
    text, depth = _shapes(BODY_LIMIT)[shape]
    assert nesting_depth(text, MAX_JSON_DEPTH) == depth
    if depth > MAX_JSON_DEPTH:
        with pytest.raises(ValueError, match="levels deep"):
            decode_json(text)
        return
    try:
        expected: Any = json.loads(text)
    except ValueError:
        with pytest.raises(ValueError) as refused:
            decode_json(text)
        assert "levels deep" not in str(refused.value)
    else:
        assert decode_json(text.encode()) == expected


@pytest.mark.parametrize("shape", list(_shapes(0)))
def test_the_depth_scan_reads_eight_times_the_body_limit_in_one_pass(shape: str) -> None:
    # No time is asserted. The scan is linear by construction (a pattern with nothing that
    # repeats, read once by finditer); the regex it replaced needed hours for the first
    # shape at this size, so this test never finishing is how the old scan fails it.
    text, depth = _shapes(8 * BODY_LIMIT)[shape]
    assert len(text) >= 2 * 1024 * 1024 - 8
    assert nesting_depth(text, MAX_JSON_DEPTH) == depth


_TRICKY_TEXT = st.text(alphabet='"\\[]{}:,a \n\u2028', max_size=12)
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _TRICKY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TRICKY_TEXT, inner, max_size=4),
    max_leaves=40,
)


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    return 0


@given(_JSON_VALUES, st.booleans())
def test_the_depth_scan_counts_the_nesting_the_parser_sees(value: object, ascii: bool) -> None:
    text = json.dumps(value, ensure_ascii=ascii)
    assert nesting_depth(text, 1000) == _depth(value)
    assert nesting_depth(text, 1) == min(_depth(value), 2)
