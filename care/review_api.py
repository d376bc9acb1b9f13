"""Systematic case review's JSON API: a case review's agenda and the recommendations made in it."""

from __future__ import annotations

from telehub.api import ApiRoutes

api = ApiRoutes(tag="registry")
