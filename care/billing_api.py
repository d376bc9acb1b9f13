"""The minutes ledger's JSON and CSV API: what a clinic's care management minutes support."""

from __future__ import annotations

from telehub.api import ApiRoutes

api = ApiRoutes(tag="registry")
