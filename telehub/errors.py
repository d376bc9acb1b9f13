"""Domain errors, and the one place they become problem+json (RFC 9457)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One thing wrong with one field of a request."""

    field: str
    detail: str


class Problem(Exception):
    """Base of every error a client may see; subclasses name the problem type."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra
        self.headers: dict[str, str] = {}

    def body(self, instance: str, request_id: str | None) -> dict[str, Any]:
        """The problem document for this error."""
        doc: dict[str, Any] = {
            "type": f"/problems/{self.slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.errors:
            doc["errors"] = [{"field": e.field, "detail": e.detail} for e in self.errors]
        if request_id:
            doc["request_id"] = request_id
        doc.update(self.extra)
        return doc


class HttpProblem(Problem):
    """An HTTP-level refusal (no such route, wrong method) or an internal error."""

    def __init__(self, status: int, title: str, detail: str, slug: str = "http") -> None:
        super().__init__(detail)
        self.status, self.title, self.slug = status, title, slug


class BadRequest(Problem):
    """The request cannot be read at all (malformed JSON, wrong content type)."""


class ValidationFailed(Problem):
    """The request was read but one or more fields are wrong."""

    status = 422
    slug = "validation"
    title = "Invalid request"


class Unauthorized(Problem):
    """No valid credentials."""

    status = 401
    slug = "unauthorized"
    title = "Authentication required"


class Forbidden(Problem):
    """Valid credentials that do not allow this."""

    status = 403
    slug = "forbidden"
    title = "Not allowed"


class NotFound(Problem):
    """No such object, or none the caller may see: the two answer alike."""

    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(Problem):
    """The request conflicts with the current state of the object."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class SlotTaken(Conflict):
    """Someone else holds an overlapping booking with this consultant."""

    slug = "slot-taken"
    title = "That time is already taken"


class SeriesConflict(Conflict):
    """Some sessions of a series are not open: each is listed (position, start, why) with the
    nearest open times; nothing was booked. Resend with `overrides` (and the consultant_id)."""

    slug = "series-conflict"
    title = "Some sessions of the series are not open"


class PossibleDuplicate(Conflict):
    """The clinic may have this patient already: `candidates` lists them (id, names, birth
    date, MRN, and `same_mrn`). A same-MRN patient is the same patient and is never added
    again; a same name and birth date may be someone else: send `"confirm_new": true`."""

    slug = "possible-duplicate"
    title = "This may be a patient the clinic has already"


class NotAnOpenSlot(Problem):
    """The requested time is not a slot the service offers (now)."""

    status = 422
    slug = "not-an-open-slot"
    title = "Not an open slot"


class IdempotencyKeyReused(Problem):
    """The Idempotency-Key was used before with a different request."""

    status = 422
    slug = "idempotency-key-reused"
    title = "Idempotency-Key reused with a different request"


class IdempotencyInFlight(Conflict):
    """A request with the same Idempotency-Key is still being processed."""

    slug = "idempotency-in-flight"
    title = "A request with this Idempotency-Key is in progress"


class PayloadTooLarge(Problem):
    """The body is larger than the service accepts."""

    status = 413
    slug = "payload-too-large"
    title = "Request body too large"


class UnsupportedMediaType(Problem):
    """The body is in a format this operation does not read."""

    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class TooManyRequests(Problem):
    """Too many failed attempts from this client or address; wait `Retry-After` seconds."""

    status = 429
    slug = "too-many-requests"
    title = "Too many attempts"

    def __init__(self, detail: str, *, retry_after: float, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))


class ServiceUnavailable(Problem):
    """The database is busy or out of reach; retry after `Retry-After` seconds."""

    status = 503
    slug = "unavailable"
    title = "Service busy"

    def __init__(self, detail: str, *, retry_after: int = 1, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.headers["Retry-After"] = str(retry_after)


@dataclass(frozen=True, slots=True)
class ProblemType:
    """A documented problem type, served at /problems/{slug}."""

    slug: str
    title: str
    status: int
    doc: str = field(default="")


def problem_types() -> list[ProblemType]:
    """Every problem type this service can answer with."""
    seen: dict[str, ProblemType] = {}
    stack: list[type[Problem]] = [Problem]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls is HttpProblem:
            continue
        seen.setdefault(
            cls.slug, ProblemType(cls.slug, cls.title, cls.status, (cls.__doc__ or "").strip())
        )
    return sorted(seen.values(), key=lambda p: p.slug)
