"""The registry's JSON API: episodes of care, their measures and contacts, the caseload."""

from __future__ import annotations

from telehub.api import ApiRoutes

api = ApiRoutes(tag="registry")
