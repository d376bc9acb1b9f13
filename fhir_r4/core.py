"""The FHIR face's plumbing: how a /fhir/r4 route is declared (auth, scope, format, and what it
adds to the CapabilityStatement), search parameters and paging, Bundles, and every error as an
OperationOutcome.

A route table is a `FhirRoutes`: each route it declares records its capability (an interaction
with its search parameters, or an operation), and `/metadata` is written from those records, so
the CapabilityStatement says exactly what is mounted and cannot drift from it.

Errors stay domain words (telehub.errors); `outcome_response` is the one place they become an
OperationOutcome, hooked into the app's `problems` middleware for every /fhir/ path. A
`FieldError`'s field is the issue's `expression`: FHIR handlers name FHIR elements or search
parameters (`Slot.start`, `service-type`), renaming a domain function's JSON field names with
`renamed`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode

from aiohttp import web
from fhir.resources.R4B.fhirresourcemodel import FHIRResourceModel
from fhir.resources.R4B.operationoutcome import OperationOutcome
from pydantic import ValidationError

from telehub.api import authenticate, require_scope
from telehub.auth import Caller
from telehub.errors import (
    BadRequest,
    FieldError,
    HttpProblem,
    Problem,
    UnsupportedMediaType,
    ValidationFailed,
)
from telehub.keys import FHIR_MOUNTED, REQUEST_ID, SETTINGS
from telehub.middleware import render_problems_under

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
BASE = "/fhir/r4"
# What a FHIR body or answer may be declared as; a client asking for plain JSON gets it.
_JSON_TYPES = (FHIR_JSON, "application/json")
_FORMATS = {"json": FHIR_JSON, FHIR_JSON: FHIR_JSON, "application/json": "application/json"}
DEFAULT_COUNT = 50
MAX_COUNT = 500
# Parameters every search takes (FHIR's "all resources" ones this server supports).
COMMON_PARAMETERS = ("_count", "_page", "_format")

Interaction = Literal[
    "read", "vread", "update", "patch", "delete", "history-instance", "create", "search-type"
]
SearchType = Literal["token", "date", "reference", "string", "number", "uri", "quantity"]
Resource = FHIRResourceModel | Mapping[str, Any]
FhirHandler = Callable[[web.Request, Caller], Awaitable[web.StreamResponse]]
PublicHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=FHIRResourceModel)


# ---- capabilities ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchParam:
    """A search parameter a search route reads (`definition` for non-core ones)."""

    name: str
    type: SearchType
    documentation: str
    definition: str | None = None


@dataclass(frozen=True, slots=True)
class OperationDef:
    """A FHIR operation (`$find`): its name without `$`, its OperationDefinition's canonical
    URL, and what it does."""

    name: str
    definition: str
    documentation: str


@dataclass(frozen=True, slots=True)
class Capability:
    """What one mounted route adds to the CapabilityStatement: an interaction on a resource
    (with the search parameters of a search), or an operation on a resource type or (resource
    None) on the whole system."""

    resource: str | None
    interaction: Interaction | None = None
    search: tuple[SearchParam, ...] = ()
    operation: OperationDef | None = None
    documentation: str = ""
    scope: str | None = None


@dataclass
class FhirRoutes:
    """A package's FHIR routes and the capabilities they declare; mounted by fhir_r4.routes."""

    routes: web.RouteTableDef = field(default_factory=web.RouteTableDef)
    capabilities: list[Capability] = field(default_factory=list)
    # Documentation of a resource as a whole (profiles followed, choices made), by type.
    notes: dict[str, str] = field(default_factory=dict)

    def route(
        self, method: str, path: str, *, name: str, scope: str, capability: Capability
    ) -> Callable[[FhirHandler], PublicHandler]:
        """Declare a route: `handler(request, caller)` after the bearer token and the telehub
        `scope` are checked and the answer format negotiated; records its capability."""
        self.capabilities.append(_scoped(capability, scope))

        def decorate(handler: FhirHandler) -> PublicHandler:
            async def endpoint(request: web.Request) -> web.StreamResponse:
                media = negotiated(request)
                caller = authenticate(request)
                require(caller, scope)
                return _as(await handler(request, caller), media)

            endpoint.__doc__ = handler.__doc__
            endpoint.__name__ = handler.__name__
            self.routes.route(method, path, name=name)(endpoint)
            return endpoint

        return decorate

    def public(
        self, method: str, path: str, *, name: str, capability: Capability | None = None
    ) -> Callable[[PublicHandler], PublicHandler]:
        """Declare a route anyone may call (the CapabilityStatement, as every FHIR server)."""
        if capability is not None:
            self.capabilities.append(capability)

        def decorate(handler: PublicHandler) -> PublicHandler:
            async def endpoint(request: web.Request) -> web.StreamResponse:
                media = negotiated(request)
                return _as(await handler(request), media)

            endpoint.__doc__ = handler.__doc__
            endpoint.__name__ = handler.__name__
            self.routes.route(method, path, name=name)(endpoint)
            return endpoint

        return decorate

    def read(
        self, resource: str, *, name: str, scope: str, documentation: str = ""
    ) -> Callable[[FhirHandler], PublicHandler]:
        """`GET /fhir/r4/{resource}/{id}`: the handler reads `request.match_info["id"]`."""
        capability = Capability(resource, "read", documentation=documentation)
        return self.route(
            "GET", f"{BASE}/{resource}/{{id}}", name=name, scope=scope, capability=capability
        )

    def search(
        self,
        resource: str,
        *,
        name: str,
        scope: str,
        params: Sequence[SearchParam],
        documentation: str = "",
    ) -> Callable[[FhirHandler], PublicHandler]:
        """`GET /fhir/r4/{resource}?...`: the handler reads `search_query(request, params)`."""
        capability = Capability(
            resource, "search-type", search=tuple(params), documentation=documentation
        )
        return self.route(
            "GET", f"{BASE}/{resource}", name=name, scope=scope, capability=capability
        )


def _scoped(capability: Capability, scope: str) -> Capability:
    return Capability(
        capability.resource,
        capability.interaction,
        capability.search,
        capability.operation,
        capability.documentation,
        scope,
    )


def require(caller: Caller, scope: str) -> None:
    """403 OperationOutcome (with the insufficient_scope challenge) unless the token grants the
    telehub scope; SMART system scopes are mapped to telehub ones at the token endpoint."""
    require_scope(caller, scope)


# ---- formats -----------------------------------------------------------------------------


def negotiated(request: web.Request) -> str:
    """The media type to answer in: `_format` first, then Accept; 406 for anything but JSON."""
    given = request.query.get("_format")
    if given is not None:
        media = _FORMATS.get(given.split(";")[0].strip().lower())
        if media is None:
            raise _not_acceptable("_format", f"{given!r} is not served: use json")
        return media
    accept = request.headers.get("Accept", "")
    if not accept.strip():
        return FHIR_JSON
    wanted = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if FHIR_JSON in wanted or "*/*" in wanted or "application/*" in wanted:
        return FHIR_JSON
    if "application/json" in wanted:
        return "application/json"
    raise _not_acceptable("Accept", "this server answers application/fhir+json only")


def _not_acceptable(name: str, detail: str) -> Problem:
    return _with_field(HttpProblem(406, "Not acceptable", detail, "not-acceptable"), name, detail)


def _with_field(problem: Problem, name: str, detail: str) -> Problem:
    problem.errors = [FieldError(name, detail)]
    return problem


def _as(response: web.StreamResponse, media: str) -> web.StreamResponse:
    if media != FHIR_JSON and response.content_type == FHIR_JSON:
        response.content_type = media
    return response


def fhir_response(
    resource: Resource, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A resource (an R4B model, or a dict already dumped from one) as application/fhir+json."""
    if isinstance(resource, FHIRResourceModel):
        body = resource.model_dump_json(by_alias=True, exclude_none=True).encode()
    else:
        body = json.dumps(resource, separators=(",", ":")).encode()
    response = web.Response(body=body, status=status, content_type=FHIR_JSON, charset="utf-8")
    if headers:
        response.headers.update(headers)
    return response


def dumped(resource: FHIRResourceModel) -> dict[str, Any]:
    """A resource as JSON data (for a Bundle entry or NDJSON)."""
    data: dict[str, Any] = resource.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


async def read_resource(request: web.Request, model: type[M]) -> M:
    """The request body as a resource of `model` (valid R4B), or an OperationOutcome: 415 for
    another media type, 400 for JSON that does not parse, is another resource type, or breaks
    the model (each issue's expression the element, e.g. `Appointment.slot[0].reference`)."""
    if request.content_type not in _JSON_TYPES:
        problem = UnsupportedMediaType(f"send {FHIR_JSON}, not {request.content_type or 'no type'}")
        raise _with_field(problem, "Content-Type", f"must be {FHIR_JSON}")
    try:
        data = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(
            "the body is not JSON", errors=[FieldError("body", "must be a FHIR JSON resource")]
        ) from None
    type_name = model.get_resource_type()
    if not isinstance(data, dict) or data.get("resourceType") != type_name:
        raise BadRequest(
            f"the body must be a {type_name} resource",
            errors=[FieldError("resourceType", f"must be {type_name}")],
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [FieldError(element_path(type_name, e["loc"]), e["msg"]) for e in exc.errors()]
        raise BadRequest(
            f"the {type_name} is not valid FHIR R4: " + "; ".join(e.field for e in errors),
            errors=errors,
        ) from None


def element_path(resource: str, loc: Iterable[int | str]) -> str:
    """A FHIRPath for a validation error's location: `Appointment.participant[0].actor`."""
    path = resource
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not part.startswith("__"):  # pydantic's root validators
            path += f".{part.removesuffix('__ext')}"
    return path


# ---- search parameters and paging --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search's parameters (each name with all its values, in order), page size and start."""

    values: Mapping[str, tuple[str, ...]]
    count: int
    offset: int

    def one(self, name: str) -> str | None:
        """The single value of a parameter; 400 naming it when it is repeated or empty."""
        given = self.values.get(name, ())
        if len(given) > 1:
            raise bad_parameter(name, "may be given once")
        if given and not given[0].strip():
            raise bad_parameter(name, "is empty")
        return given[0].strip() if given else None

    def all(self, name: str) -> tuple[str, ...]:
        """Every value of a repeated parameter (ANDed), none empty."""
        given = self.values.get(name, ())
        if any(not v.strip() for v in given):
            raise bad_parameter(name, "is empty")
        return tuple(v.strip() for v in given)


def search_query(request: web.Request, params: Sequence[SearchParam]) -> SearchQuery:
    """The request's search parameters: 400 naming an unknown one (or a modifier this server
    does not support), a bad `_count` or `_page`."""
    known = {p.name for p in params}
    values: dict[str, list[str]] = {}
    for name, value in request.query.items():
        if name in ("_format",):
            continue
        if name not in known and name not in COMMON_PARAMETERS:
            base, _, modifier = name.partition(":")
            why = (
                f"the modifier :{modifier} is not supported"
                if base in known
                else "is not a search parameter of this resource"
            )
            raise BadRequest(
                f"{name}: {why}", errors=[FieldError(name, why)], fhir_code="not-supported"
            )
        values.setdefault(name, []).append(value)
    frozen = {k: tuple(v) for k, v in values.items()}
    plain = SearchQuery(frozen, DEFAULT_COUNT, 0)
    count_text = plain.one("_count")
    count = DEFAULT_COUNT
    if count_text is not None:
        if not re.fullmatch(r"[0-9]{1,6}", count_text) or not 0 < int(count_text) <= MAX_COUNT:
            raise bad_parameter("_count", f"must be a whole number from 1 to {MAX_COUNT}")
        count = int(count_text)
    page = plain.one("_page")
    return SearchQuery(frozen, count, page_offset(page) if page is not None else 0)


def bad_parameter(name: str, why: str) -> BadRequest:
    """A 400 OperationOutcome whose issue names the search parameter."""
    return BadRequest(f"{name}: {why}", errors=[FieldError(name, why)])


def page_token(offset: int) -> str:
    """The opaque `_page` value of a page starting at `offset` (a position, nothing else)."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def page_offset(token: str) -> int:
    """Where a `_page` value this server gave starts; 400 naming `_page` otherwise."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, binascii.Error, UnicodeDecodeError):
        text = ""
    kind, _, offset = text.partition(":")
    if kind != "o" or not re.fullmatch(r"[0-9]{1,7}", offset):
        raise bad_parameter("_page", "is not a page this server gave")
    return int(offset)


def token(name: str, text: str, system: str | None = None) -> str:
    """The code of a token parameter (`code` or `system|code`); 400 naming the parameter when
    the system is given and is not `system`."""
    given_system, bar, code = text.rpartition("|")
    if not bar:
        return text
    if system is not None and given_system not in ("", system):
        raise bad_parameter(name, f"the system must be {system}")
    if not code:
        raise bad_parameter(name, "has no code after '|'")
    return code


@dataclass(frozen=True, slots=True)
class Bounds:
    """What date parameters allow: lower <= t < upper (None: unbounded)."""

    lower: datetime | None = None
    upper: datetime | None = None


_PREFIXES = ("eq", "ge", "gt", "le", "lt")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def date_bounds(name: str, values: Sequence[str]) -> Bounds:
    """The range that date parameters (`ge2026-12-07`, `lt2026-12-14T00:00:00Z`) allow, ANDed.
    A day means the whole day in UTC; a time must carry its offset. 400 naming the parameter
    for a prefix this server does not take, a malformed value or an empty range."""
    lower: datetime | None = None
    upper: datetime | None = None
    for raw in values:
        prefix = raw[:2] if raw[:2] in _PREFIXES else "eq"
        start, end = _instant_range(name, raw[2:] if raw[:2] in _PREFIXES else raw)
        low, high = {
            "eq": (start, end),
            "ge": (start, None),
            "gt": (end, None),
            "lt": (None, start),
            "le": (None, end),
        }[prefix]
        if low is not None:
            lower = low if lower is None else max(lower, low)
        if high is not None:
            upper = high if upper is None else min(upper, high)
    if lower is not None and upper is not None and lower >= upper:
        raise bad_parameter(name, "the values allow no time at all (the range is empty)")
    return Bounds(lower, upper)


def _instant_range(name: str, text: str) -> tuple[datetime, datetime]:
    if _DAY.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise bad_parameter(name, f"{text!r} is not a date") from None
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start, start + timedelta(days=1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise bad_parameter(
            name, f"{text!r} is not a date or a date-time (YYYY-MM-DDThh:mm:ss+zz:zz)"
        ) from None
    if moment.tzinfo is None:
        raise bad_parameter(name, "a date-time must carry its offset (Z or +hh:mm)")
    moment = moment.astimezone(UTC)
    return moment, moment + timedelta(seconds=1)


# ---- Bundles -----------------------------------------------------------------------------


def base_url(request: web.Request) -> str:
    """The FHIR base URL, absolute (FHIR links and fullUrls are)."""
    return request.app[SETTINGS].base_url + BASE


def searchset(
    request: web.Request,
    entries: Sequence[Resource],
    *,
    total: int | None,
    next_offset: int | None = None,
) -> dict[str, Any]:
    """A searchset Bundle of one page, as JSON data: `self` the request as sent, `next` (when
    more follow) the same search at `next_offset`; each entry with its fullUrl and search mode
    match. The entries are R4B models (or their dumps) already; the Bundle around them is this
    fixed shape, so it is not validated again (500 slots: 90 ms saved; the tests validate every
    Bundle with the R4B model)."""
    base = base_url(request)
    resources = [dumped(e) if isinstance(e, FHIRResourceModel) else dict(e) for e in entries]
    links = [{"relation": "self", "url": _page_url(request, None)}]
    if next_offset is not None:
        links.append({"relation": "next", "url": _page_url(request, next_offset)})
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }
    if total is not None:
        bundle["total"] = total
    if not bundle["entry"]:
        del bundle["entry"]
    return bundle


def _page_url(request: web.Request, offset: int | None) -> str:
    origin = request.app[SETTINGS].base_url
    if offset is None:
        return (
            origin + request.rel_url.raw_path_qs
            if request.rel_url.raw_query_string
            else (origin + request.rel_url.raw_path)
        )
    pairs = [(k, v) for k, v in request.query.items() if k != "_page"]
    pairs.append(("_page", page_token(offset)))
    return f"{origin}{request.rel_url.raw_path}?{urlencode(pairs)}"


def paged(
    request: web.Request, query: SearchQuery, everything: Sequence[Resource]
) -> dict[str, Any]:
    """One page of a search whose whole answer is at hand (and counted) as a Bundle."""
    page = everything[query.offset : query.offset + query.count]
    more = query.offset + query.count < len(everything)
    return searchset(
        request,
        page,
        total=len(everything),
        next_offset=query.offset + query.count if more else None,
    )


# ---- OperationOutcome --------------------------------------------------------------------

_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    413: "too-long",
    415: "not-supported",
    422: "business-rule",
    429: "throttled",
    500: "exception",
    503: "transient",
}
# Extra members of a problem document that are safe and useful in an OperationOutcome's
# diagnostics. Everything else stays out: PossibleDuplicate's candidates are patients.
_SAFE_EXTRAS = ("required_scope",)


def outcome(problem: Problem) -> OperationOutcome:
    """The OperationOutcome of a problem: one issue per field error (its expression the
    element or parameter), else one issue; the code from the status (or the problem's own
    `fhir_code`), diagnostics the problem's detail."""
    given = problem.extra.get("fhir_code")
    code = given if isinstance(given, str) else _ISSUE_CODES.get(problem.status, "processing")
    if problem.status == 422 and problem.slug == "validation":
        code = "invalid"
    severity = "fatal" if problem.status >= 500 and problem.status != 503 else "error"
    extra = "".join(f" ({k}: {problem.extra[k]})" for k in _SAFE_EXTRAS if k in problem.extra)
    details = {"text": problem.title}
    if problem.errors:
        issues = [
            {
                "severity": severity,
                "code": code,
                "details": details,
                "diagnostics": f"{e.field}: {e.detail}",
                "expression": [e.field],
            }
            for e in problem.errors
        ]
    else:
        issues = [
            {
                "severity": severity,
                "code": code,
                "details": details,
                "diagnostics": problem.detail + extra,
            }
        ]
    return OperationOutcome.model_validate({"resourceType": "OperationOutcome", "issue": issues})


def outcome_response(request: web.Request, problem: Problem) -> web.Response:
    """The problem as an OperationOutcome answer, with the problem's headers (the Bearer
    challenge of a 401 or 403, Retry-After, Allow) and the request id."""
    response = fhir_response(outcome(problem), status=problem.status, headers=problem.headers)
    request_id = request.get(REQUEST_ID)
    if request_id:
        response.headers["X-Request-Id"] = request_id
    return response


def renamed(problem: Problem, names: Mapping[str, str]) -> Problem:
    """The same problem with its fields named the FHIR way (`service_id` → `service-type`)."""
    problem.errors = [FieldError(names.get(e.field, e.field), e.detail) for e in problem.errors]
    return problem


def invalid(name: str, why: str) -> ValidationFailed:
    """A 422 OperationOutcome naming the element (`Appointment.slot`) a rule refuses."""
    return ValidationFailed(f"{name}: {why}", errors=[FieldError(name, why)])


# ---- mounting ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mounted:
    """The FHIR route tables the app mounted, in order (the CapabilityStatement's source)."""

    tables: tuple[FhirRoutes, ...]

    @property
    def capabilities(self) -> list[Capability]:
        """Every mounted route's capability."""
        return [c for t in self.tables for c in t.capabilities]

    @property
    def notes(self) -> dict[str, str]:
        """Each resource type's documentation, from the tables that declare it."""
        return {k: v for t in self.tables for k, v in t.notes.items()}


def mount(app: web.Application, tables: Sequence[FhirRoutes]) -> None:
    """Mount the tables' routes, remember them for /metadata, and answer every problem under
    /fhir/ as an OperationOutcome."""
    for table in tables:
        app.router.add_routes(table.routes)
    app[FHIR_MOUNTED] = Mounted(tuple(tables))
    render_problems_under(app, "/fhir/", outcome_response)
