"""Every FHIR route table, mounted in order: `setup(app)` is the app factory's one call.

Each table records what it supports, and /metadata is written from the tables mounted here, so
adding a table here is all it takes to serve it and to declare it."""

from __future__ import annotations

from aiohttp import web

from fhir_r4 import (
    appointments,
    directory,
    documents,
    metadata,
    requests,
    slots,
)
from fhir_r4.bulk import bulk
from fhir_r4.core import FhirRoutes, mount

TABLES: tuple[FhirRoutes, ...] = (
    metadata.fhir,
    directory.fhir,
    slots.fhir,
    bulk,
    appointments.fhir,
    documents.fhir,
    requests.fhir,
)


def setup(app: web.Application) -> None:
    """Mount the FHIR face at /fhir/r4."""
    mount(app, TABLES)
