"""`GET /fhir/r4/metadata`: the CapabilityStatement, written from the capabilities the mounted
route tables declare (telehub.keys.FHIR_MOUNTED), so it says exactly what is served; and the SMART
configuration at the FHIR base (`/fhir/r4/.well-known/smart-configuration`), where SMART clients
look for it, the same document as the server root's.

FHIR version 4.0.1; resources are built and checked with fhir.resources' R4B models (R4B is R4
for these resources, with minor additions).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from aiohttp import web
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from fhir_r4.core import (
    BASE,
    FHIR_JSON,
    FHIR_VERSION,
    MAX_COUNT,
    Capability,
    FhirRoutes,
    fhir_response,
)
from telehub import discovery
from telehub.keys import FHIR_MOUNTED, SETTINGS
from telehub.request import now_of

fhir = FhirRoutes()
SMART_OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
SECURITY_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service"
# The order FHIR lists interactions in, for a stable document.
_ORDER = ("read", "vread", "update", "patch", "delete", "history-instance", "create", "search-type")


@fhir.public("GET", f"{BASE}/metadata", name="fhir_metadata")
async def metadata(request: web.Request) -> web.Response:
    """The CapabilityStatement (no token needed, as on every FHIR server)."""
    statement = capability_statement(request)
    return fhir_response(statement, headers={"Access-Control-Allow-Origin": "*"})


@fhir.public("GET", f"{BASE}/.well-known/smart-configuration", name="fhir_smart_configuration")
async def smart_configuration(request: web.Request) -> web.Response:
    """The SMART configuration at the FHIR base URL (Backend Services: the token endpoint)."""
    response = web.json_response(discovery.smart_configuration(request.app[SETTINGS]))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def capability_statement(request: web.Request) -> CapabilityStatement:
    """What this server supports, from the route tables mounted."""
    settings = request.app[SETTINGS]
    mounted = request.app[FHIR_MOUNTED]
    by_type: dict[str, list[Capability]] = defaultdict(list)
    system_ops: list[Capability] = []
    for c in mounted.capabilities:
        if c.resource is None:
            system_ops.append(c)
        else:
            by_type[c.resource].append(c)
    notes = mounted.notes
    return CapabilityStatement.model_validate(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": now_of(request),
            "publisher": "telehub",
            "kind": "instance",
            "software": {"name": "telehub"},
            "implementation": {
                "description": "Telehub hub-and-spoke scheduling and consults (FHIR R4)",
                "url": settings.base_url + BASE,
            },
            "fhirVersion": FHIR_VERSION,
            "format": ["json", FHIR_JSON],
            "rest": [
                {
                    "mode": "server",
                    "documentation": (
                        "Bearer tokens from the token endpoint (client credentials; SMART "
                        "Backend Services: private_key_jwt with RS384/ES384). Searches answer "
                        f"searchset Bundles with self and next links (_count up to {MAX_COUNT}, "
                        "the next page by its link); every error is an OperationOutcome whose "
                        "issue names the element or parameter in expression. FHIR R4 (4.0.1); "
                        "every resource is built and validated with the fhir.resources R4B "
                        "models (R4B is R4 for these resources, with minor additions)."
                    ),
                    "security": _security(settings.token_endpoint, settings.base_url),
                    "resource": [
                        _resource(name, by_type[name], notes.get(name)) for name in sorted(by_type)
                    ],
                    **({"operation": [_operation(c) for c in system_ops]} if system_ops else {}),
                }
            ],
        }
    )


def _security(token_endpoint: str, base_url: str) -> dict[str, Any]:
    return {
        "cors": True,
        "service": [
            {
                "coding": [{"system": SECURITY_SERVICE, "code": "SMART-on-FHIR"}],
                "text": "OAuth2 using SMART-on-FHIR profile (Backend Services)",
            }
        ],
        "extension": [
            {
                "url": SMART_OAUTH_URIS,
                "extension": [{"url": "token", "valueUri": token_endpoint}],
            }
        ],
        "description": (
            "SMART Backend Services: discover the token endpoint at "
            f"{base_url}{BASE}/.well-known/smart-configuration; SMART v2 system scopes "
            "(system/Slot.rs, ...) map to telehub's scopes, each interaction's named below."
        ),
    }


def _resource(name: str, found: list[Capability], note: str | None) -> dict[str, Any]:
    interactions = sorted(
        (c for c in found if c.interaction is not None),
        key=lambda c: _ORDER.index(c.interaction) if c.interaction in _ORDER else len(_ORDER),
    )
    params: dict[str, dict[str, Any]] = {}
    for c in interactions:
        for p in c.search:
            entry = {"name": p.name, "type": p.type, "documentation": p.documentation}
            if p.definition:
                entry["definition"] = p.definition
            params.setdefault(p.name, entry)
    resource: dict[str, Any] = {
        "type": name,
        "interaction": [
            {"code": c.interaction, "documentation": _documented(c)} for c in interactions
        ]
        or None,
        "searchParam": list(params.values()) or None,
        "operation": [_operation(c) for c in found if c.operation is not None] or None,
    }
    if note:
        resource["documentation"] = note
    return {k: v for k, v in resource.items() if v is not None}


def _operation(c: Capability) -> dict[str, Any]:
    assert c.operation is not None
    return {
        "name": c.operation.name,
        "definition": c.operation.definition,
        "documentation": _documented(c, c.operation.documentation),
    }


def _documented(c: Capability, text: str | None = None) -> str:
    words = text or c.documentation or ""
    scope = f"scope {c.scope}" if c.scope else "no token needed"
    return f"{words} ({scope})" if words else scope
