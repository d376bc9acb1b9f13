"""CSV downloads: a header row, cells a spreadsheet shows as text, and the attachment response."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from aiohttp import web

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A header row, then the rows, each cell made safe; CRLF line ends (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return out.getvalue()


def csv_download(text: str, filename: str) -> web.Response:
    """A CSV answer the browser saves as `filename`."""
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def wants_csv(request: web.Request) -> bool:
    """Whether the Accept header asks for text/csv (rather than JSON)."""
    ranges = [
        part.split(";")[0].strip().lower() for part in request.headers.get("Accept", "").split(",")
    ]
    return "text/csv" in ranges
