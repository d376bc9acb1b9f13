"""Small server-side SVG line charts for the bench report: no script, no CDN.

A cost curve's sizes span orders of magnitude, so the x axis is logarithmic when they do;
each series is a polyline with a marker at each measured point and its value as a tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 420, 232
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 56
LEGEND_COLUMN = 180  # two legend entries a row, each this wide
COLOURS = ("#1b6ca8", "#c2410c", "#15803d", "#7c3aed")
INK = "#333"


def _x_positions(sizes: Sequence[float]) -> list[float]:
    inner = WIDTH - LEFT - RIGHT
    low, high = min(sizes), max(sizes)
    if high <= low:
        return [LEFT + inner / 2 for _ in sizes]
    if low > 0 and high / low >= 10:
        span = math.log(high) - math.log(low)
        return [LEFT + inner * (math.log(s) - math.log(low)) / span for s in sizes]
    return [LEFT + inner * (s - low) / (high - low) for s in sizes]


def _top(values: Sequence[float]) -> float:
    peak = max(values, default=0.0)
    if peak <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(peak))
    for step in (1, 2, 2.5, 5, 10):
        if peak <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def line_chart(
    title: str,
    x_label: str,
    sizes: Sequence[float],
    series: dict[str, Sequence[float | None]],
    unit: str,
) -> str:
    """One `<svg>` element: each series against `sizes`, with axes, ticks and a legend."""
    xs = _x_positions(sizes)
    known = [v for values in series.values() for v in values if v is not None]
    top = _top(known)
    inner_h = HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + inner_h * (1 - value / top)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LEFT}" y1="{TOP + inner_h}" x2="{WIDTH - RIGHT}" y2="{TOP + inner_h}" '
        f'stroke="{INK}"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + inner_h}" stroke="{INK}"/>',
    ]
    for k in range(5):
        value = top * k / 4
        out.append(
            f'<text x="{LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="10" '
            f'fill="{INK}">{value:g}</text>'
        )
    for x, size in zip(xs, sizes, strict=True):
        out.append(
            f'<text x="{x:.1f}" y="{TOP + inner_h + 14}" text-anchor="middle" font-size="10" '
            f'fill="{INK}">{size:,g}</text>'
        )
    out.append(
        f'<text x="{LEFT + (WIDTH - LEFT - RIGHT) / 2}" y="{HEIGHT - 28}" text-anchor="middle" '
        f'font-size="11" fill="{INK}">{escape(x_label)}</text>'
    )
    for index, (name, values) in enumerate(series.items()):
        colour = COLOURS[index % len(COLOURS)]
        points = [(x, y(v), v) for x, v in zip(xs, values, strict=True) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in points)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
        for px, py, v in points:
            out.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}">'
                f"<title>{escape(name)}: {v:g} {escape(unit)}</title></circle>"
            )
        column, row = index % 2, index // 2
        out.append(
            f'<text x="{LEFT + 8 + LEGEND_COLUMN * column}" y="{HEIGHT - 14 + 12 * row}" '
            f'font-size="10" fill="{colour}">■ {escape(name)}</text>'
        )
    out.append("</svg>")
    return "".join(out)
