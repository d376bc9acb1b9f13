"""Every page's form, read one way: into the API's own models, with errors a person can act on.

A form's inputs are named by the dotted path of the field they fill (`clinical_context.phq9`),
so a validation error's field names its input. A page handler reads the form with `read`
(or, for a form whose inputs do not map one to one onto a model, `typed_form` + `check`), and on a
mistake renders the page again with `filled.values` (what was typed, kept) and `filled.errors`
(by input, in plain words, in the order the form shows its inputs). The error summary in
`templates/telehub/forms.html` names each field by the label the form shows (`field_label`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web

from telehub.errors import FieldError, ValidationFailed
from telehub.validation import Input, validate

In = TypeVar("In", bound=Input)

# pydantic's wording, said the way the people using the pages say it: what to do, not what failed.
_PLAIN = (
    (re.compile(r"^Field required$"), "is required"),
    (re.compile(r"^List should have at least 1 item.*"), "choose at least one"),
    (re.compile(r"^Input should be less than or equal to (\S+)$"), r"must be \1 or less"),
    (re.compile(r"^Input should be greater than or equal to (\S+)$"), r"must be \1 or more"),
    (re.compile(r"^Input should be less than (\S+)$"), r"must be less than \1"),
    (re.compile(r"^Input should be greater than (\S+)$"), r"must be more than \1"),
    (re.compile(r"^Input should be a valid integer.*"), "must be a whole number"),
    (re.compile(r"^Input should be a valid number.*"), "must be a number"),
    (re.compile(r"^Input should be a valid date.*"), "must be a date, like 2027-03-01"),
    (re.compile(r"^Input should be a valid time.*"), "must be a time, like 09:30"),
    (re.compile(r"^Input should be a valid datetime.*"), "must be a date and time"),
    (re.compile(r"^Input should be a valid boolean.*"), "must be yes or no"),
    (
        re.compile(r"^String should have at most (\d+) characters?$"),
        r"must be at most \1 characters",
    ),
    (re.compile(r"^String should have at least 1 char.*"), "is required"),
    (re.compile(r"^String should have at least (\d+) char.*"), r"must be at least \1 characters"),
    (re.compile(r"^String should match pattern.*"), "is not in the expected form"),
    (re.compile(r"^Input should be a valid UUID.*"), "choose one from the list"),
    (re.compile(r"^Input should be '.*"), "choose one of the options listed"),
    (re.compile(r"^Value error, (.*)$"), r"\1"),
)

# How forms label the fields many of them share. A form with its own wording passes `labels`
# to the error summary; these are the fallback, so that no summary ever says "Spoke id:".
LABELS: dict[str, str] = {
    "patient_id": "Patient",
    "service_id": "Service",
    "service_ids": "Services",
    "consultant_id": "Consultant",
    "spoke_id": "Clinic",
    "role": "Role",
    "roles": "Roles",
    "kind": "Kind",
    "name": "Name",
    "display_name": "Name",
    "email": "Email",
    "phone": "Phone",
    "timezone": "Time zone",
    "time_zone": "Time zone",
    "licensed_states": "Licensed states",
    "state": "State",
    "patient_state": "Patient's state",
    "url": "Webhook address",
    "week": "Week of",
    "start": "Time",
    "starts_at": "Starts",
    "ends_at": "Ends",
    "duration_minutes": "Length (minutes)",
    "reason": "Reason",
    "question": "Your question",
    "urgency": "Urgency",
    "body": "Message",
    "form": "Form",
}


def plain(message: str) -> str:
    """A validation message in everyday words."""
    for pattern, words in _PLAIN:
        if pattern.match(message):
            return pattern.sub(words, message)
    return message


def field_label(name: str, labels: Mapping[str, str] | None = None) -> str:
    """The label a form shows for an input: the form's own, the shared one, or its words."""
    if labels and name in labels:
        return labels[name]
    if name in LABELS:
        return LABELS[name]
    head = name.rsplit(".", 1)[-1].removesuffix("_id").removesuffix("_ids")
    return head.replace("_", " ").capitalize()


@dataclass
class Filled(Generic[In]):
    """A form as read: the parsed model (None on a mistake), what was typed, what to fix."""

    parsed: In | None = None
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the form parsed with nothing to fix."""
        return self.parsed is not None and not self.errors


async def typed_form(request: web.Request) -> dict[str, str]:
    """What the user typed, by input name, without the CSRF token (the last of repeated names)."""
    form = await request.post()
    return {k: str(v) for k, v in form.items() if k != "csrf_token"}


async def checked(request: web.Request, name: str) -> list[str]:
    """The values of a group of checkboxes (or a multiple select) sharing one name."""
    return [str(v) for v in (await request.post()).getall(name, [])]


def pick(values: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
    """The non-blank typed values of some inputs (a blank input means 'not given')."""
    return {n: values[n].strip() for n in names if values.get(n, "").strip()}


def errors_of(failed: ValidationFailed, names: Collection[str] = ()) -> dict[str, str]:
    """A refusal's field errors in plain words, each at the input that shows it, in form order.

    An error about a nested field (`service_ids.1`, `clinical_context.pain.score`) is placed at
    the nearest input up its path; `names` lists the form's inputs in the order it shows them.
    """
    placed: dict[str, str] = {}
    for error in failed.errors or [FieldError("form", failed.detail)]:
        parts = error.field.split(".")
        while names and parts and ".".join(parts) not in names:
            parts.pop()
        placed.setdefault(".".join(parts) if parts else error.field, plain(error.detail))
    return in_form_order(placed, names)


def in_form_order(errors: Mapping[str, str], names: Collection[str]) -> dict[str, str]:
    """Errors ordered as the form shows its inputs (ones about no input come first)."""
    order = {name: i for i, name in enumerate(names)}
    return dict(sorted(errors.items(), key=lambda item: order.get(item[0], -1)))


def check(
    model: type[In], values: Mapping[str, Any], names: Collection[str] = ()
) -> tuple[In | None, dict[str, str]]:
    """Validate with an API model: (parsed or None, errors by the input they belong to)."""
    try:
        return validate(model, dict(values)), {}
    except ValidationFailed as failed:
        return None, errors_of(failed, names)


async def read(
    request: web.Request,
    model: type[In],
    *,
    names: Collection[str] = (),
    extra: Mapping[str, Any] | None = None,
) -> Filled[In]:
    """A form validated with an API model; blank inputs are 'not given', `extra` fills the rest.

    `names` are the form's inputs in the order it shows them (for placing and ordering errors).
    """
    values = await typed_form(request)
    given: dict[str, Any] = {k: v for k, v in values.items() if v != ""}
    given.update(extra or {})
    parsed, errors = check(model, given, names)
    return Filled(parsed, values, errors)


def refused(
    filled: Filled[In], failed: ValidationFailed, names: Collection[str] = ()
) -> Filled[In]:
    """The same form refused by the domain after it parsed (a rule the model cannot see)."""
    return Filled(None, filled.values, {**filled.errors, **errors_of(failed, names)})
