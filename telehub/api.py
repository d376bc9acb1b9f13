"""How JSON API handlers are declared: one decorator does auth, scope, parsing and encoding,
and records the operation so the OpenAPI document is generated from the same facts."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from aiohttp import web
from pydantic import BaseModel

from telehub.auth import Caller, InvalidToken, read_access_token
from telehub.errors import Forbidden, Unauthorized
from telehub.keys import CALLER, SETTINGS
from telehub.request import json_response
from telehub.validation import Input, NoInput, read_body, read_query

In = TypeVar("In", bound=Input)
Out = TypeVar("Out", bound=BaseModel)
Handler = Callable[[web.Request, Caller, In], Awaitable[Out | web.StreamResponse]]
# Where a 201's new resource lives, from the request and the JSON body it answers with.
Location = Callable[[web.Request, dict[str, Any]], str]


def at(template: str) -> Location:
    """A Location filled from the answer's fields: `at("/api/v1/bookings/{id}")`."""

    def location(request: web.Request, body: dict[str, Any]) -> str:
        return template.format(**body)

    return location


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
    location: Location | None = None
    # Other media types the success answer may have (a CSV beside the JSON, a PDF), and the
    # media types of a raw request body (a file), for the OpenAPI document.
    answers_also: tuple[str, ...] = ()
    raw_body: tuple[str, ...] = ()

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
        location: Location | None = None,
        answers_also: tuple[str, ...] = (),
        raw_body: tuple[str, ...] = (),
    ) -> Callable[[Handler[In, Out]], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
        """Declare an operation: `handler(request, caller, parsed_input) -> output model`.

        An operation that answers 201 Created names where the new resource lives (`location`),
        sent as the Location header of every 201, a replayed one included."""
        if status == 201 and location is None:
            raise TypeError(f"{name}: a 201 operation needs a location")
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
            location,
            answers_also,
            raw_body,
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
                    response = result
                else:
                    response = json_response(result, status=status)
                if location is not None and response.status == 201:
                    _locate(request, response, location)
                return response

            endpoint.__doc__ = handler.__doc__
            endpoint.__name__ = handler.__name__
            self.routes.route(method, path, name=name)(endpoint)
            return endpoint

        return decorate


def _locate(request: web.Request, response: web.StreamResponse, location: Location) -> None:
    body = response.body if isinstance(response, web.Response) else None
    if isinstance(body, bytes):
        response.headers["Location"] = location(request, json.loads(body))


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
