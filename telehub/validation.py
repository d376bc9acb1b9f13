"""Reading requests: typed input models, JSON bodies and query strings, and the field errors
they refuse with (shared by the API and the pages)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from telehub.errors import BadRequest, FieldError, UnsupportedMediaType, ValidationFailed


class Input(BaseModel):
    """Base of request bodies and query strings: unknown fields are an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Output(BaseModel):
    """Base of response bodies."""

    model_config = ConfigDict(frozen=True)


class FieldNamedError(ValueError):
    """A cross-field validation error (raised in a model validator) that names its field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NoInput(Input):
    """An operation that takes no body or query parameters."""


def _in_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Every time in a response is UTC, RFC 3339, with a `Z`: moved to UTC when the response
# model is built, so pydantic's own (fast) serializer writes it with a `Z`.
UtcDatetime = Annotated[datetime, AfterValidator(_in_utc)]

In = TypeVar("In", bound=Input)


MAX_JSON_DEPTH = 32
MAX_NUMBER_CHARS = 40  # an id is at most 19 digits; no field needs more than a few
# What matters to nesting: a quote, a bracket or brace, and an escape with the character it
# escapes. Nothing in the pattern repeats, so it cannot backtrack: finditer looks at each
# character once, and the scan is linear in the body whatever the body holds.
_STRUCTURE = re.compile(r'\\.|["\[\]{}]', re.DOTALL)


async def read_body(request: web.Request, model: type[In]) -> In:
    """Decode a JSON body into the model: 415 unless it is JSON, 400 unless it is a JSON
    object (read within limits of depth and number size), 422 naming bad fields."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType(
            "the body must be JSON",
            errors=[FieldError("Content-Type", "must be application/json")],
        )
    raw = await request.read()
    try:
        value = decode_json(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(
            f"the body is not valid JSON: {exc}", errors=[FieldError("body", str(exc))]
        ) from None
    if not isinstance(value, dict):
        raise BadRequest(
            "the body must be a JSON object", errors=[FieldError("body", "must be an object")]
        )
    return validate(model, value)


def decode_json(raw: bytes | str) -> Any:
    """`json.loads` within limits: nesting at most MAX_JSON_DEPTH deep (deeper exhausts the
    parser's recursion), numbers of at most MAX_NUMBER_CHARS characters (a 4,300-digit
    integer is refused by int() itself), and no NaN or Infinity, which JSON does not have.
    Every refusal is a ValueError."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    if nesting_depth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
    return json.loads(
        text, parse_int=_bounded(int), parse_float=_bounded(float), parse_constant=_no_constant
    )


def nesting_depth(text: str, limit: int) -> int:
    """How deep arrays and objects nest in JSON text, brackets inside strings left out.

    One pass over the text, tracking whether it is inside a string; it stops at the first
    level deeper than `limit` (so a refusal returns limit + 1). Text that is not JSON gets
    some number back, and json.loads refuses it afterwards.
    """
    depth = deepest = 0
    in_string = False
    for match in _STRUCTURE.finditer(text):
        found = match[0]
        if found == '"':
            in_string = not in_string
        elif in_string or len(found) == 2:  # a bracket inside a string, or an escape
            continue
        elif found in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


def _bounded(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(digits: str) -> Any:
        if len(digits) > MAX_NUMBER_CHARS:
            raise ValueError(f"a number longer than {MAX_NUMBER_CHARS} characters")
        value = kind(digits)
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{digits} is out of range")
        return value

    return parse


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# In a query string an unencoded '+' arrives as a space: "…T09:00:00 05:00" meant "+05:00".
_SPACE_OFFSET = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+) (\d\d:?\d\d)$")


def read_query(request: web.Request, model: type[In]) -> In:
    """Decode the query string into the model; 422 naming bad parameters."""
    values: dict[str, Any] = {}
    for key in request.query:
        items = request.query.getall(key)
        if len(items) > 1:
            raise ValidationFailed(
                f"{key} is given more than once", errors=[FieldError(key, "give it once")]
            )
        values[key] = _SPACE_OFFSET.sub(r"\1+\2", items[0])
    return validate(model, values)


def validate(model: type[In], value: dict[str, Any]) -> In:
    """Validate plain data against a model, turning pydantic errors into field errors."""
    nul = _nul_field(value, "")
    if nul is not None:
        # PostgreSQL text cannot hold U+0000; refuse it here, naming the field.
        raise ValidationFailed(
            f"{nul}: must not contain the NUL character",
            errors=[FieldError(nul, "must not contain the NUL character")],
        )
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        errors = [_field_error(e) for e in exc.errors(include_url=False)]
        summary = "; ".join(f"{e.field}: {e.detail}" for e in errors[:5])
        raise ValidationFailed(summary, errors=errors) from None


def _nul_field(value: object, where: str) -> str | None:
    """The path of the first string (key or value) holding U+0000, if any."""
    if isinstance(value, str):
        return (where or "body") if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if "\x00" in str(key):
                return where or "body"
            found = _nul_field(item, path)
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _nul_field(item, f"{where}.{i}" if where else str(i))
            if found is not None:
                return found
    return None


def _field_error(error: Any) -> FieldError:
    where = ".".join(str(p) for p in error["loc"])
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, FieldNamedError):
        return FieldError(".".join(filter(None, [where, cause.field])), str(cause))
    where = where or "body"
    kind = error["type"]
    if kind == "missing":
        return FieldError(where, "is required")
    if kind == "extra_forbidden":
        return FieldError(where, "is not a known field")
    if kind == "timezone_aware":
        return FieldError(where, "needs a UTC offset, for example 2027-03-08T09:00:00-08:00")
    message = str(error["msg"]).removeprefix("Value error, ")
    return FieldError(where, message)
