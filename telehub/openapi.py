"""The OpenAPI 3.1 document, assembled from the operations the app actually mounts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from telehub.api import Operation
from telehub.auth import ALL_SCOPES
from telehub.errors import PROBLEM_JSON, problem_types
from telehub.idempotency import IDEMPOTENCY_HEADER, KEY_PATTERN
from telehub.settings import Settings
from telehub.validation import NoInput

_PATH_PARAM = re.compile(r"\{(\w+)\}")

# Request headers an operation may take, as telehub.idempotency reads them.
_HEADERS: dict[str, dict[str, Any]] = {
    IDEMPOTENCY_HEADER: {
        "description": "1-255 visible ASCII characters; sent again with the same request, "
        "the first successful answer is replayed instead of acting twice",
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
    },
}

_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "One entry per field that needs fixing",
            "items": {
                "type": "object",
                "required": ["field", "detail"],
                "properties": {"field": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
}

_PARAM_SCHEMAS = {
    "integer": {"type": "integer", "minimum": 1},
    "uuid": {"type": "string", "format": "uuid"},
}


def build_openapi(settings: Settings, operations: list[Operation]) -> dict[str, Any]:
    """Describe every mounted operation with schemas generated from its models."""
    models: list[tuple[type[BaseModel], Any]] = []
    for op in operations:
        if op.takes_body:
            models.append((op.input, "validation"))
        if op.output is not None:
            models.append((op.output, "serialization"))
    refs, top = models_json_schema(models, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    schemas["Problem"] = _PROBLEM_SCHEMA

    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        codes = sorted(set(op.errors) | set(_refusals(op)))
        entry: dict[str, Any] = {
            "operationId": op.name,
            "summary": op.summary,
            "tags": [op.tag],
            "security": [{"oauth2": [op.scope]}],
            "parameters": _parameters(op),
            "responses": {
                str(op.status): _success(op, refs),
                **{str(code): {"$ref": f"#/components/responses/Problem{code}"} for code in codes},
            },
        }
        if op.takes_body:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(op.input, "validation")]}},
            }
        elif op.raw_body:
            entry["requestBody"] = {
                "required": True,
                "content": {media: {"schema": _raw(media)} for media in op.raw_body},
            }
        paths.setdefault(op.path, {})[op.method.lower()] = entry

    statuses = sorted({code for op in operations for code in (*op.errors, *_refusals(op))})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Telehub API",
            "version": "1",
            "description": (
                "Scheduling and closed-loop consults for telehealth hub-and-spoke care. "
                "Times are RFC 3339; responses are UTC. Errors are application/problem+json."
            ),
        },
        "servers": [{"url": settings.base_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {f"Problem{code}": _problem(code) for code in statuses},
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "description": (
                        "Client credentials with client_secret_basic, client_secret_post or "
                        "private_key_jwt (RS384/ES384 assertions, SMART Backend Services)."
                    ),
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": settings.token_endpoint,
                            "scopes": {s: s.replace(":", " ") for s in sorted(ALL_SCOPES)},
                        }
                    },
                }
            },
        },
    }


def _refusals(op: Operation) -> tuple[int, ...]:
    """What any operation of its kind can answer, whatever its handler does: 400 for a
    control character in the path or query (and, with a body, for a body that is not a JSON
    object), 413 and 415 for a body too large or not JSON, 422 for input that fails its model
    (for a file: of another type than allowed, or than it says), 503 when the database is out
    of reach."""
    codes = [400, 503]
    if op.takes_body:
        codes += [413, 415, 422]
    elif op.raw_body:
        codes += [413, 422]  # a file too large, or of another type than it says (the field)
    elif op.input is not NoInput:
        codes.append(422)
    return tuple(codes)


def _success(op: Operation, refs: Mapping[tuple[Any, Any], Any]) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": "Done"}
    if op.output is not None:
        answer = {
            "description": op.output.__doc__.splitlines()[0] if op.output.__doc__ else "OK",
            "content": {"application/json": {"schema": refs[(op.output, "serialization")]}},
        }
    if op.answers_also:
        answer.setdefault("description", "OK")
        answer["content"] = {
            **answer.get("content", {}),
            **{media: {"schema": _raw(media)} for media in op.answers_also},
        }
    if op.status == 201:
        answer["headers"] = {
            "Location": {
                "description": "Where the new resource lives",
                "required": True,
                "schema": {"type": "string", "format": "uri-reference"},
            }
        }
    return answer


def _raw(media: str) -> dict[str, Any]:
    """A body that is not JSON: text (a CSV) or bytes (a file)."""
    if media.startswith("text/"):
        return {"type": "string"}
    return {"type": "string", "contentMediaType": media}


def _parameters(op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": _PARAM_SCHEMAS[op.path_params.get(name, "integer")],
        }
        for name in _PATH_PARAM.findall(op.path)
    ]
    for header, need in op.headers.items():
        params.append(
            {"name": header, "in": "header", "required": need == "required", **_HEADERS[header]}
        )
    if not op.takes_body and op.input is not NoInput:
        schema = op.input.model_json_schema()
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": {k: v for k, v in prop.items() if k != "title"},
                    **({"description": prop["description"]} if "description" in prop else {}),
                }
            )
    return params


_PROBLEM_HEADERS = {
    401: ("WWW-Authenticate", "Bearer challenge (RFC 6750)"),
    403: ("WWW-Authenticate", 'Bearer error="insufficient_scope" and the scope needed'),
    405: ("Allow", "The methods this path takes"),
    429: ("Retry-After", "Seconds to wait"),
    503: ("Retry-After", "Seconds to wait"),
}


def _problem(code: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _describe(code),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if code in _PROBLEM_HEADERS:
        name, description = _PROBLEM_HEADERS[code]
        response["headers"] = {name: {"description": description, "schema": {"type": "string"}}}
    return response


def _describe(status: int) -> str:
    titles = sorted({p.title for p in problem_types() if p.status == status})
    return " / ".join(titles) if titles else f"HTTP {status}"
