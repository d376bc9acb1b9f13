"""Liveness, readiness, the OpenAPI document and the problem-type pages."""

from __future__ import annotations

from aiohttp import web

from telehub.db import connection
from telehub.errors import problem_types
from telehub.keys import API, POOL, SETTINGS
from telehub.openapi import build_openapi
from telehub.web import render

routes = web.RouteTableDef()


@routes.get("/healthz", name="healthz")
async def healthz(request: web.Request) -> web.Response:
    """The process is up."""
    return web.json_response({"status": "ok"})


@routes.get("/readyz", name="readyz")
async def readyz(request: web.Request) -> web.Response:
    """The process can reach its database; a load balancer may send traffic.

    Unreachable, starting up, too many clients or too slow: `connection` answers 503 with
    Retry-After for each.
    """
    settings = request.app[SETTINGS]
    async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
        await conn.fetchval("SELECT 1")
    return web.json_response({"status": "ready"})


@routes.get("/api/v1/openapi.json", name="openapi")
async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 description of this API, generated from the code."""
    return web.json_response(build_openapi(request.app[SETTINGS], request.app[API].operations))


@routes.get("/problems/{slug}", name="problem_type")
async def problem_type(request: web.Request) -> web.Response:
    """A human page for each problem `type` URI the API answers with."""
    slug = request.match_info["slug"]
    for problem in problem_types():
        if problem.slug == slug:
            return render(request, "telehub/problem.html", {"problem": problem})
    raise web.HTTPNotFound


@routes.get("/", name="home")
async def home(request: web.Request) -> web.Response:
    """A landing page pointing at sign-in, the API and its description."""
    return render(
        request,
        "telehub/home.html",
        {"base_url": request.app[SETTINGS].base_url, "problems": problem_types()},
    )
