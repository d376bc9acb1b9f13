"""bench/report.html: one small inline SVG chart per cost curve, with its numbers in a table."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from bench.scale import CURVES
from bench.svg import line_chart

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;"
    "color:#222}table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
    "th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:right}"
    "section{margin-bottom:2rem;overflow-x:auto}"
)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, dict):
        return escape(", ".join(f"{k}: {v}" for k, v in value.items()))
    return escape(str(value))


def _section(key: str, curve: dict[str, Any]) -> str:
    size = curve["size"]
    points = curve["points"]
    sizes = [float(p[size]) for p in points]
    chart = line_chart(
        curve["title"],
        size.replace("_", " "),
        sizes,
        {s: [p.get(s) for p in points] for s in curve["series"]},
        curve["unit"],
    )
    columns = list(points[0]) if points else []
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{_cell(p.get(c))}</td>" for c in columns) + "</tr>" for p in points
    )
    growth = "".join(
        f"<li>{escape(series)}: "
        + "; ".join(
            f"{s['from']:,} → {s['to']:,}: size x{s['size_factor']}, figure x{s['figure_factor']}"
            for s in steps
        )
        + "</li>"
        for series, steps in curve["growth"].items()
    )
    return (
        f'<section id="{key}"><h2>{escape(curve["title"])}</h2>{chart}'
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        f"<ul>{growth}</ul></section>"
    )


def render(curves: dict[str, Any], machine: dict[str, Any] | None = None) -> str:
    """The whole page."""
    about = (
        escape(", ".join(f"{k}: {v}" for k, v in machine.items() if not isinstance(v, dict)))
        if machine
        else ""
    )
    body = "".join(_section(k, curves[k]) for k in CURVES if k in curves)
    checks = "".join(
        f"<li>{escape(name)}: {'passed' if met else 'FAILED'}</li>"
        for name, met in curves.get("checks", {}).items()
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>telehub cost curves</title>"
        f"<style>{STYLE}</style></head><body><h1>telehub cost curves</h1>"
        f"<p>{about}</p><p>Run took {curves.get('run_seconds', '?')} s.</p>"
        f"<h2>Checks</h2><ul>{checks}</ul>{body}</body></html>\n"
    )


def write(path: Path, curves: dict[str, Any], machine: dict[str, Any] | None = None) -> None:
    """Write the page to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(curves, machine))
