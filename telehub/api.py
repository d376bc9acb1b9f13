"""How JSON API handlers are declared: one decorator does auth, scope, parsing and encoding,
and records the operation so the OpenAPI document is generated from the same facts."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import asyncpg
import structlog
from aiohttp import web
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from telehub.audit import Trail
from telehub.auth import Caller, InvalidToken, read_access_token
from telehub.db import connection, transaction
from telehub.errors import (
    PROBLEM_JSON,
    BadRequest,
    FieldError,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from telehub.idempotency import Answer, fingerprint, run_once
from telehub.keys import CALLER, CLOCK, POOL, REQUEST_ID, SETTINGS


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
Out = TypeVar("Out", bound=BaseModel)
Handler = Callable[[web.Request, Caller, In], Awaitable[Out | web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Operation:
    """One API operation as the OpenAPI document describes it."""

    method: str
    path: str
    name: str
    summary: str
    tag: str
    scope: str
    input: type[Input]
    output: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    path_params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def takes_body(self) -> bool:
        """Whether the input comes from the body (else from the query string)."""
        return self.method in {"POST", "PUT", "PATCH"} and self.input is not NoInput


@dataclass
class ApiRoutes:
    """A package's API routes, mounted by the app factory and described in OpenAPI."""

    tag: str
    routes: web.RouteTableDef = field(default_factory=web.RouteTableDef)
    operations: list[Operation] = field(default_factory=list)

    def operation(
        self,
        method: str,
        path: str,
        *,
        name: str,
        summary: str,
        scope: str,
        input: type[In],
        output: type[Out] | None,
        status: int = 200,
        errors: tuple[int, ...] = (),
        path_params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Callable[[Handler[In, Out]], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
        """Declare an operation: `handler(request, caller, parsed_input) -> output model`."""
        op = Operation(
            method,
            path,
            name,
            summary,
            self.tag,
            scope,
            input,
            output,
            status,
            (401, 403, *errors),
            path_params or {},
            headers or {},
        )
        self.operations.append(op)

        def decorate(
            handler: Handler[In, Out],
        ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
            async def endpoint(request: web.Request) -> web.StreamResponse:
                caller = authenticate(request)
                require_scope(caller, scope)
                if op.takes_body:
                    data = await read_body(request, input)
                else:
                    data = read_query(request, input)
                result = await handler(request, caller, data)
                if isinstance(result, web.StreamResponse):
                    return result
                return json_response(result, status=status)

            endpoint.__doc__ = handler.__doc__
            endpoint.__name__ = handler.__name__
            self.routes.route(method, path, name=name)(endpoint)
            return endpoint

        return decorate


def authenticate(request: web.Request) -> Caller:
    """The caller named by the request's bearer token; 401 otherwise."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("a bearer access token is required", None)
    try:
        caller = read_access_token(request.app[SETTINGS], token.strip())
    except InvalidToken as exc:
        raise _unauthorized(f"the access token was refused: {exc}", "invalid_token") from None
    request[CALLER] = caller
    structlog.contextvars.bind_contextvars(actor=caller.actor)
    return caller


def _unauthorized(detail: str, error: str | None) -> Unauthorized:
    problem = Unauthorized(detail)
    challenge = 'Bearer realm="telehub"'
    if error:
        challenge += f', error="{error}"'
    problem.headers["WWW-Authenticate"] = challenge
    return problem


def require_scope(caller: Caller, scope: str) -> None:
    """403 unless the caller's token grants the scope."""
    if scope not in caller.scopes:
        problem = Forbidden(f"this operation needs the scope {scope!r}", required_scope=scope)
        problem.headers["WWW-Authenticate"] = (
            f'Bearer realm="telehub", error="insufficient_scope", scope="{scope}"'
        )
        raise problem


async def read_body(request: web.Request, model: type[In]) -> In:
    """Decode a JSON body into the model; 400 for unreadable JSON, 422 naming bad fields."""
    if request.content_type != "application/json":
        raise BadRequest(
            "the body must be JSON",
            errors=[FieldError("Content-Type", "must be application/json")],
        )
    raw = await request.read()
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(
            f"the body is not valid JSON: {exc}", errors=[FieldError("body", str(exc))]
        ) from None
    if not isinstance(value, dict):
        raise ValidationFailed(
            "the body must be a JSON object", errors=[FieldError("body", "must be an object")]
        )
    return validate(model, value)


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


def json_response(model: BaseModel, *, status: int = 200) -> web.Response:
    """Encode an output model as JSON."""
    return web.Response(
        body=model.model_dump_json().encode(), status=status, content_type="application/json"
    )


_DIGITS = re.compile(r"^[0-9]{1,18}$")


def int_param(request: web.Request, name: str) -> int:
    """A numeric path parameter; a malformed one is simply not found."""
    raw = request.match_info[name]
    if not _DIGITS.match(raw):  # str.isdigit() would let '²' through to int()
        raise NotFound(f"no such {name}")
    return int(raw)


def uuid_param(request: web.Request, name: str) -> uuid.UUID:
    """A UUID path parameter; a malformed one is simply not found."""
    try:
        return uuid.UUID(request.match_info[name])
    except ValueError:
        raise NotFound(f"no such {name}") from None


def trail_of(request: web.Request, caller: Caller) -> Trail:
    """The audit trail entry for this request."""
    return Trail(caller.actor, request.get(REQUEST_ID), request.remote)


def now_of(request: web.Request) -> datetime:
    """The current time, from the app's clock (tests fix it)."""
    return request.app[CLOCK]()


@asynccontextmanager
async def unit_of_work(request: web.Request) -> AsyncIterator[asyncpg.Connection]:
    """One pooled connection in one transaction, for one request's work."""
    settings = request.app[SETTINGS]
    async with transaction(request.app[POOL], settings.db_acquire_timeout) as conn:
        yield conn


IDEMPOTENCY_HEADER = "Idempotency-Key"


async def idempotent(
    request: web.Request,
    caller: Caller,
    data: Input,
    work: Callable[[asyncpg.Connection], Awaitable[BaseModel]],
    *,
    status: int,
    key_required: bool,
) -> web.Response:
    """Run `work` in one transaction, once per Idempotency-Key; replay the first answer."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None and key_required:
        raise BadRequest(
            f"an {IDEMPOTENCY_HEADER} header is required so retries cannot book twice",
            errors=[FieldError(IDEMPOTENCY_HEADER, "is required")],
        )
    if key is not None and not _KEY.match(key):
        raise BadRequest(
            f"{IDEMPOTENCY_HEADER} must be 1-255 visible ASCII characters",
            errors=[FieldError(IDEMPOTENCY_HEADER, "must be 1-255 visible ASCII characters")],
        )

    async def answer(conn: asyncpg.Connection) -> Answer:
        return Answer(status, (await work(conn)).model_dump_json())

    settings = request.app[SETTINGS]
    async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
        if key is None:
            async with conn.transaction():
                result = await answer(conn)
            replayed = False
        else:
            print_ = fingerprint(request.method, request.path, data.model_dump_json())
            result, replayed = await run_once(conn, caller.client_id, key, print_, answer)
    kind = "application/json" if result.status < 400 else PROBLEM_JSON
    response = web.Response(text=result.body, status=result.status, content_type=kind)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
