"""Conditional GET: answer 304 from an ETag or date before doing the expensive part."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web


def _matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    return etag in {tag.strip().removeprefix("W/") for tag in header.split(",")}


async def conditional(
    request: web.Request,
    *,
    etag: str,
    last_modified: datetime | None,
    content_type: str,
    cache_control: str,
    render: Callable[[], Awaitable[bytes]],
) -> web.Response:
    """304 when the client's copy is current; else the body (HEAD: its headers only)."""
    quoted = f'"{etag}"'
    headers = {"ETag": quoted, "Cache-Control": cache_control}
    if last_modified is not None:
        headers["Last-Modified"] = _http_date(last_modified)
    if_none_match = request.headers.get("If-None-Match")
    since = request.if_modified_since
    fresh = (
        _matches(if_none_match, quoted)
        if if_none_match is not None
        else since is not None
        and last_modified is not None
        and last_modified.replace(microsecond=0) <= since
    )
    if fresh:
        return web.Response(status=304, headers=headers)
    # HEAD renders too: its Content-Length must be GET's (RFC 9110 §9.3.2); aiohttp sends
    # the headers of a HEAD answer without its body.
    body = await render()
    return web.Response(body=body, headers=headers, content_type=content_type, charset="utf-8")


def _http_date(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
