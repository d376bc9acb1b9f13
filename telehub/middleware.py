"""Request middlewares: one log line per request, and errors mapped once to problem+json."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp_jinja2
import structlog
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage
from multidict import MultiDictProxy

from telehub.errors import (
    PROBLEM_JSON,
    BadRequest,
    FieldError,
    HttpProblem,
    PayloadTooLarge,
    Problem,
)
from telehub.keys import PROBLEM_FACES, REQUEST_ID, SESSION, SETTINGS

log = structlog.get_logger("telehub.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# C0 controls and DEL. A form field may hold lines (tab, newline, CR); nothing else may.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # tab separates words
_CONTROL_IN_FORM = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# aiohttp decodes header bytes as UTF-8 with surrogateescape: bytes that are not UTF-8 stay
# as lone surrogates, which every later .encode() refuses with an exception (a 500).
_UNDECODABLE = re.compile(r"[\udc80-\udcff]")
# RFC 6749 section 5.2: error_description is printable ASCII without '"' and '\\'.
_DESCRIPTION_UNSAFE = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
# What aiohttp's form reading raises on bytes it cannot decode (UnicodeDecodeError is a
# ValueError), an unknown charset (LookupError), a part's broken header (BadHttpMessage) or an
# unknown Content-Transfer-Encoding (RuntimeError).
_UNDECODABLE_FORM = (ValueError, LookupError, BadHttpMessage, RuntimeError)

RequestHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# How a face with its own error format (FHIR's OperationOutcome) renders a problem.
ProblemRenderer = Callable[[web.Request, Problem], web.Response]

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"
OPENAPI_PATH = "/api/v1/openapi.json"


_MACHINE_PATHS = ("/api/", "/oauth/", "/feeds/", "/static/", "/.well-known/", "/fhir/")
_PROBES = frozenset({"/healthz", "/readyz"})


def is_page(request: web.Request) -> bool:
    """A request for a human's page (HTML), as opposed to the API, tokens, feeds, files,
    discovery documents or the load balancer's probes."""
    return not request.path.startswith(_MACHINE_PATHS) and request.path not in _PROBES


def route_of(request: web.Request) -> str:
    """The route template, never the raw path: paths can hold feed tokens and ids."""
    route = request.match_info.route
    resource = route.resource
    return resource.canonical if resource is not None else "-"


def _keeps_no_store(request: web.Request) -> bool:
    """Pages and the API carry patient data; tokens are secrets. Feeds set their own caching."""
    if request.path == OPENAPI_PATH:
        return False
    return is_page(request) or request.path.startswith(("/api/", "/oauth/"))


class ProblemFaces:
    """Path prefixes whose problems another renderer answers (FHIR: an OperationOutcome)."""

    def __init__(self) -> None:
        self.renderers: dict[str, ProblemRenderer] = {}


def render_problems_under(app: web.Application, prefix: str, renderer: ProblemRenderer) -> None:
    """Answer every problem under `prefix` with `renderer` (mounted by a face's setup)."""
    if PROBLEM_FACES not in app:
        app[PROBLEM_FACES] = ProblemFaces()
    app[PROBLEM_FACES].renderers[prefix] = renderer


def _face_of(request: web.Request) -> ProblemRenderer | None:
    faces = request.app.get(PROBLEM_FACES)
    if faces is None:
        return None
    for prefix, renderer in faces.renderers.items():
        if request.path.startswith(prefix):
            return renderer
    return None


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: the one place every response passes, whatever produced it.

    A signal, not a middleware, so that redirects raised as `web.HTTPException`, aiohttp's own
    refusals and static files get the same headers as handler responses and problems.
    """
    response.headers.update(SECURITY_HEADERS)
    if request.app[SETTINGS].base_url.startswith("https://"):
        response.headers["Strict-Transport-Security"] = HSTS
    if _keeps_no_store(request):
        response.headers["Cache-Control"] = "no-store"
    elif request.path.startswith("/fhir/"):
        # FHIR answers carry patient data, unless a route says otherwise (a public directory's
        # bulk-publish files, revalidated with ETag).
        response.headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def request_log(request: web.Request, handler: RequestHandler) -> web.StreamResponse:
    """Bind a request id to every log event of this request and write one summary line."""
    given = request.headers.get("X-Request-Id", "")
    request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id, route=route_of(request))
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    except web.HTTPException as raised:  # redirects travel as exceptions in aiohttp
        status = raised.status
        raised.headers["X-Request-Id"] = request_id
        raise
    finally:
        log.info(
            "request",
            method=request.method,
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )


# RFC 6749 section 5.2 codes for problems that do not name their own `error`.
_OAUTH_ERRORS = {401: "invalid_client", 500: "server_error", 503: "temporarily_unavailable"}


def oauth_description(detail: str) -> str:
    """`detail` in the characters RFC 6749 section 5.2 allows in an error_description:
    quotes become ', backslashes /, and anything else outside printable ASCII ?."""
    return _DESCRIPTION_UNSAFE.sub("?", detail.replace('"', "'").replace("\\", "/"))


def problem_response(request: web.Request, problem: Problem) -> web.Response:
    """Render a problem: a page for people, a problem document (RFC 9457) for machines,
    and RFC 6749 error JSON on the token endpoint, which OAuth clients read strictly."""
    if is_page(request):
        return error_page(request, problem)
    face = _face_of(request)
    if face is not None:
        return face(request, problem)
    if request.path.startswith("/oauth/"):
        error = problem.extra.get("error") or _OAUTH_ERRORS.get(problem.status, "invalid_request")
        oauth_body = {"error": error, "error_description": oauth_description(problem.detail)}
        response = web.json_response(oauth_body, status=problem.status)
        response.headers.update(problem.headers)
        response.headers["Cache-Control"] = "no-store"
        return response
    # The path as the client sent it (still percent-encoded), never the route template.
    body = problem.body(request.rel_url.raw_path, request.get(REQUEST_ID))
    response = web.Response(text=json.dumps(body), status=problem.status, content_type=PROBLEM_JSON)
    response.headers.update(problem.headers)
    return response


def page_basics(request: web.Request) -> dict[str, Any]:
    """What every page template may use: the user, their CSRF token, a notice."""
    session = request.get(SESSION)
    return {
        "user": session.user if session else None,
        "csrf_token": session.csrf_token if session else "",
        "flash": session.flash if session else None,
        "request_path": request.path,
    }


def error_page(request: web.Request, problem: Problem) -> web.Response:
    """A plain page that says what went wrong and what to do."""
    response = aiohttp_jinja2.render_template(
        "telehub/error.html",
        request,
        {**page_basics(request), "problem": problem, "request_id": request.get(REQUEST_ID)},
        status=problem.status,
    )
    response.headers.update(problem.headers)
    return response


@web.middleware
async def refuse_control_characters(
    request: web.Request, handler: RequestHandler
) -> web.StreamResponse:
    """400 naming the field for a control character where text cannot hold one: a path
    segment, a query parameter, a header, a cookie, a form field (which may hold lines); and
    for a header or form that cannot be decoded at all. Checked once, here, before any
    handler; PostgreSQL text cannot even store NUL."""
    for name, value in request.match_info.items():
        _refuse(_CONTROL, name, value, "the path")
    for name, value in request.query.items():
        _refuse(_CONTROL, name, name + value, "the query string")
    for name, value in request.headers.items():  # aiohttp's parser refuses them first today
        _refuse(_CONTROL_IN_HEADER, name, value, "a header")
        # Credentials are refused by their readers (telehub.api, telehub.oauth) with a 401
        # and the challenge their scheme asks for, not as a bad request.
        if name.lower() != "authorization" and _UNDECODABLE.search(value):
            raise BadRequest(
                f"the {_printable(name)} header holds bytes that are not UTF-8",
                errors=[FieldError(_printable(name), "must be UTF-8 text")],
            )
    for name, value in request.cookies.items():  # SimpleCookie unquotes "\000" to NUL
        _refuse(_CONTROL, name, value, "a cookie")
    if request.method not in ("GET", "HEAD") and request.content_type in _FORMS:
        limit = upload_limit(request)
        if limit is not None:
            request = request.clone(client_max_size=limit)
        form = await decoded_form(request)
        for name, item in form.items():
            if isinstance(item, str):
                _refuse(_CONTROL_IN_FORM, name, name + item, "the form")
    return await handler(request)


_UPLOAD_LIMIT = "telehub_upload_limit"
Handler = TypeVar("Handler", bound=Callable[..., Any])


def accepts_upload(max_bytes: int) -> Callable[[Handler], Handler]:
    """Mark a page handler that takes a file in a multipart form: its form may be as large as
    `max_bytes` (plus the form's other fields), where every other body keeps the app's limit."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, _UPLOAD_LIMIT, max_bytes + 64 * 1024)
        return handler

    return mark


def upload_limit(request: web.Request) -> int | None:
    """The body limit of the route's handler if it takes a file, else None (the app's)."""
    limit = getattr(request.match_info.handler, _UPLOAD_LIMIT, None)
    return limit if isinstance(limit, int) else None


async def decoded_form(
    request: web.Request,
) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The request's form (cached by aiohttp: handlers read it again for free), or 400 if its
    bytes, charset or multipart framing cannot be decoded."""
    try:
        return await request.post()
    except _UNDECODABLE_FORM as exc:
        log.info("request.undecodable_form", error=type(exc).__name__)
        raise BadRequest(
            "the form cannot be decoded: send UTF-8 text, urlencoded or multipart with its "
            "boundary",
            errors=[FieldError("body", "must be a well-formed UTF-8 form")],
        ) from None


def _printable(name: str) -> str:
    return _CONTROL.sub("?", _UNDECODABLE.sub("?", name))


def _refuse(control: re.Pattern[str], name: str, value: str, where: str) -> None:
    if control.search(value):
        field = _printable(name)
        raise BadRequest(
            f"{field} in {where} holds a control character (such as NUL or a line break)",
            errors=[FieldError(field, "must not contain control characters")],
        )


@web.middleware
async def problems(request: web.Request, handler: RequestHandler) -> web.StreamResponse:
    """Turn domain errors and HTTP errors into problem+json; never leak a traceback."""
    try:
        return await handler(request)
    except Problem as problem:
        return problem_response(request, problem)
    except web.HTTPRequestEntityTooLarge as exc:
        return problem_response(request, PayloadTooLarge(f"the body exceeds {exc.text}"))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        slug = "not-found" if exc.status == 404 else "http"
        refusal = HttpProblem(exc.status, exc.reason, exc.reason, slug)
        if "Allow" in exc.headers:
            refusal.headers["Allow"] = exc.headers["Allow"]
        return problem_response(request, refusal)
    except Exception:
        log.exception("request.failed")
        failure = HttpProblem(
            500, "Internal error", "an unexpected error occurred; it has been logged", "internal"
        )
        return problem_response(request, failure)
