"""Well-known documents that let an OAuth client configure itself: RFC 8414 authorization
server metadata and the SMART App Launch 2.x configuration (Backend Services).

Both are built from the same facts the token endpoint enforces, never written by hand.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from telehub.auth import ALL_SCOPES, ASSERTION_ALGORITHMS, KIND_SCOPES, smart_scopes_for
from telehub.keys import SETTINGS
from telehub.oauth import GRANT_TYPE
from telehub.settings import Settings

routes = web.RouteTableDef()

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
# SMART capabilities: a secret (symmetric) or a registered public key (asymmetric).
# SMART system scopes in the v2 syntax (`system/Slot.rs`) and the v1 one (`system/Slot.read`).
CAPABILITIES = [
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "permission-v1",
    "permission-v2",
]
# The SMART system scopes some kind of client can be granted (telehub/auth.py SMART_SCOPES).
SMART_SCOPES_SUPPORTED = smart_scopes_for(frozenset().union(*KIND_SCOPES.values()))


def _common(settings: Settings) -> dict[str, Any]:
    return {
        "token_endpoint": settings.token_endpoint,
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGORITHMS,
        "grant_types_supported": [GRANT_TYPE],
        "scopes_supported": sorted(ALL_SCOPES),
        # No authorization endpoint: client credentials only, so no response type at all.
        "response_types_supported": [],
    }


def authorization_server_metadata(settings: Settings) -> dict[str, Any]:
    """RFC 8414 metadata. No jwks_uri: access tokens are HMAC-signed and checked only here."""
    return {
        "issuer": settings.issuer,
        **_common(settings),
    }


def smart_configuration(settings: Settings) -> dict[str, Any]:
    """The SMART App Launch 2.x configuration for Backend Services (no user-facing launch,
    so no authorization endpoint; no OpenID Connect, so no issuer or jwks_uri). Its scopes are
    the SMART system scopes first (a client asks for them and gets the telehub scopes they map
    to as well), then telehub's own."""
    return {
        **_common(settings),
        "scopes_supported": [*SMART_SCOPES_SUPPORTED, *sorted(ALL_SCOPES)],
        "capabilities": CAPABILITIES,
    }


def _document(body: dict[str, Any]) -> web.Response:
    response = web.json_response(body)
    # A browser-based client (a SMART app's page) may read it from another origin.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@routes.get("/.well-known/oauth-authorization-server", name="oauth_metadata")
async def oauth_metadata(request: web.Request) -> web.Response:
    """RFC 8414 authorization server metadata."""
    return _document(authorization_server_metadata(request.app[SETTINGS]))


@routes.get("/.well-known/smart-configuration", name="smart_configuration")
async def smart_config(request: web.Request) -> web.Response:
    """SMART App Launch 2.x configuration (Backend Services)."""
    return _document(smart_configuration(request.app[SETTINGS]))
