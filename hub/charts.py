"""Charts drawn on the server as SVG: no script, readable by screen readers and in print.

Bar charts for the coordinator's dashboard, and a questionnaire trend (PHQ-9 and GAD-7 over
time, with the collaborative care model's target and remission lines) for the registry.

Pure functions from numbers to markup. Each chart is an `<svg role="img">` named by its
`<title>` and `<desc>`; every piece is built with `Markup.format`, which escapes each text.
Missing values (None, NaN, infinity) draw no bar but a dash, so a week without data never
reads as a zero. The page shows the same numbers in a table, where a reader gets them exactly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date
from typing import Protocol

from markupsafe import Markup

__all__ = [
    "PALETTE",
    "Dated",
    "Series",
    "bar_chart",
    "hbar_chart",
    "nice_scale",
    "trend_chart",
]

Series = tuple[str, Sequence[float | None]]

# Blue and orange stay apart for the common colour-vision deficiencies; each has at least
# 3:1 contrast with the white background (WCAG 1.4.11).
PALETTE = ("#0b5cad", "#c2570c", "#1e6b35", "#6b3fa0")
INK, MUTED, GRID = "#17202a", "#4a5868", "#d5dce4"
WIDTH = 640
FONT = 13
_CHAR = 0.56 * FONT  # rough width of one character, for laying out labels
DASH = "\u2013"  # drawn where a value is missing
ELLIPSIS = "\u2026"
NO_DATA = "No data for this period"


def nice_scale(top: float, ticks: int = 5) -> tuple[float, float]:
    """A round axis maximum at or above `top`, and the step between its gridlines."""
    if not math.isfinite(top) or top <= 0:
        return 1.0, 0.25
    raw = top / (ticks - 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))
    return step * math.ceil(top / step - 1e-9), step


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str,
    *,
    description: str = "",
    chart_id: str | None = None,
    at_least: float = 0.0,
) -> Markup:
    """Vertical bars grouped by label (a week, say), one colour per series.

    The axis reaches at least `at_least` (say 10 for a percentage), so small values look small.
    """
    values = _checked(labels, series)
    top, step = nice_scale(max([at_least, *(v for s in values for v in s if v is not None)]))
    height, left, right, bottom = 300, 56, 12, 40
    plot_top = 44 if len(series) > 1 else 20
    plot_h = height - plot_top - bottom
    plot_w = WIDTH - left - right
    out = _open(title, description, chart_id, height)
    if _empty(values):
        return _close(out, _no_data(height))
    out += _legend(series)
    base = plot_top + plot_h
    for tick in _ticks(top, step):
        y = base - tick / top * plot_h
        out.append(_line(left, y, WIDTH - right, y, GRID if tick else MUTED))
        out.append(_text(left - 6, y + FONT / 3, _number(tick, unit), anchor="end", fill=MUTED))
    band = plot_w / len(labels)
    group = band * 0.72
    bar = group / len(series)
    # Label every nth group when the labels would run into each other.
    every = math.ceil(len(labels) * max(map(len, labels)) * _CHAR / (plot_w * 0.9)) or 1
    for i, label in enumerate(labels):
        x0 = left + i * band + (band - group) / 2
        for j, (name, _) in enumerate(series):
            value, x = values[j][i], x0 + j * bar
            if value is None:
                out.append(_text(x + bar / 2, base - 4, DASH, anchor="middle", fill=MUTED))
                continue
            h = min(value, top) / top * plot_h
            tip = f"{label}, {name}: {_number(value, unit)}"
            out.append(_rect(x, base - h, bar - 1, h, _colour(j), tip))
        if i % every == 0:
            out.append(_text(left + (i + 0.5) * band, base + 20, label, anchor="middle"))
    return _close(out)


def hbar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str,
    *,
    description: str = "",
    chart_id: str | None = None,
    notes: Sequence[str] | None = None,
) -> Markup:
    """Horizontal bars, one row per label (a consultant, a clinic), one colour per series.

    `notes` are short texts written at the end of each row, such as a percentage.
    """
    values = _checked(labels, series)
    if notes is not None and len(notes) != len(labels):
        raise ValueError("give one note per label")
    top, step = nice_scale(max([0.0, *(v for s in values for v in s if v is not None)]))
    bar, gap = 20, 12
    row = bar * len(series) + gap
    plot_top = 44 if len(series) > 1 else 20
    height = plot_top + max(len(labels), 1) * row + 28
    left = min(200.0, 16 + _CHAR * max(map(len, labels), default=4))
    right = 16 + (_CHAR * max(map(len, notes)) + 8 if notes else 0)
    plot_w = WIDTH - left - right
    out = _open(title, description, chart_id, height)
    if _empty(values):
        return _close(out, _no_data(height))
    out += _legend(series)
    axis = plot_top + len(labels) * row
    for tick in _ticks(top, step):
        x = left + tick / top * plot_w
        out.append(_line(x, plot_top - 4, x, axis, GRID if tick else MUTED))
        out.append(_text(x, axis + 18, _number(tick, unit), anchor="middle", fill=MUTED))
    fits = int((left - 12) / _CHAR)
    for i, label in enumerate(labels):
        y0 = plot_top + i * row + gap / 2
        middle = y0 + bar * len(series) / 2 + FONT / 3
        shown = label if len(label) <= fits else label[: max(fits - 1, 1)] + ELLIPSIS
        out.append(_text(left - 8, middle, shown, anchor="end"))
        for j, (name, _) in enumerate(series):
            value, y = values[j][i], y0 + j * bar
            if value is None:
                out.append(_text(left + 4, y + bar - 4, DASH, fill=MUTED))
                continue
            w = min(value, top) / top * plot_w
            shown_value = _number(value, unit)
            out.append(_rect(left, y, w, bar - 2, _colour(j), f"{label}, {name}: {shown_value}"))
            # The value at the end of its bar: outside when it fits, else inside in white.
            room = len(shown_value) * _CHAR + 6
            inside = w + room > plot_w
            out.append(
                _text(
                    left + w + (-6 if inside else 6),
                    y + bar / 2 + FONT / 3 - 1,
                    shown_value,
                    anchor="end" if inside else "start",
                    fill="#ffffff" if inside else INK,
                )
            )
        if notes:
            out.append(_text(WIDTH - right + 8, middle, notes[i]))
    return _close(out)


class Dated(Protocol):
    """A questionnaire total on a day (care.rules.Score is one)."""

    @property
    def measured_on(self) -> date: ...

    @property
    def score(self) -> int: ...


# The PHQ-9 totals 0-27 and the GAD-7 0-21: one fixed axis, so charts side by side compare.
TREND_TOP = 27
TREND_TICKS = (0, 5, 10, 15, 20, 25)
SMALL_WIDTH, SMALL_HEIGHT = 160, 48


def trend_chart(
    title: str,
    phq9: Sequence[Dated],
    gad7: Sequence[Dated] = (),
    *,
    description: str = "",
    chart_id: str | None = None,
    remission_below: int | None = None,
    target: float | None = None,
    small: bool = False,
) -> Markup:
    """PHQ-9 (blue, solid, round points) and GAD-7 (orange, dashed, square points) over time.

    `target` draws the response line (half the first PHQ-9, say) and `remission_below` the
    remission line, both dashed and named. `small` draws a sparkline for a table row: no axis
    words or legend, the same lines; the page puts the numbers in a table beside it either way.
    Points are placed by date, oldest left; one point sits in the middle.
    """
    width, height = (SMALL_WIDTH, SMALL_HEIGHT) if small else (WIDTH, 260)
    left, right = (4, 4) if small else (40, 150)
    top, bottom = (4, 4) if small else (40, 36)
    plot_w, plot_h = width - left - right, height - top - bottom
    out = _open(title, description, chart_id, height, width)
    if not phq9 and not gad7:
        if small:
            return _close(out, _text(width / 2, height / 2 + FONT / 3, DASH, anchor="middle"))
        return _close(out, _text(width / 2, height / 2, NO_DATA, anchor="middle", fill=MUTED))
    days = [p.measured_on for p in (*phq9, *gad7)]
    first, span = min(days), (max(days) - min(days)).days

    def x(day: date) -> float:
        if span == 0:
            return left + plot_w / 2
        return left + (day - first).days / span * plot_w

    def y(value: float) -> float:
        return top + plot_h - min(max(value, 0.0), TREND_TOP) / TREND_TOP * plot_h

    if not small:
        out += _legend((("PHQ-9", ()), ("GAD-7", ())))
        for tick in TREND_TICKS:
            out.append(_line(left, y(tick), left + plot_w, y(tick), GRID if tick else MUTED))
            out.append(_text(left - 6, y(tick) + FONT / 3, str(tick), anchor="end", fill=MUTED))
        out.append(_text(left, height - 10, first.isoformat(), fill=MUTED))
        if span:
            last = max(days).isoformat()
            out.append(_text(left + plot_w, height - 10, last, anchor="end", fill=MUTED))
    for value, name, colour in (
        (target, "Target", PALETTE[2]),
        (remission_below, "Remission", PALETTE[3]),
    ):
        if value is None:
            continue
        out.append(_dashed(left, y(value), left + plot_w, y(value), colour))
        if not small:
            words = (
                f"{name}: {_number(value, '')}" if name == "Target" else f"{name}: below {value}"
            )
            out.append(_text(left + plot_w + 6, y(value) + FONT / 3, words, fill=colour))
    for j, (name, points) in enumerate((("PHQ-9", phq9), ("GAD-7", gad7))):
        ordered = sorted(points, key=lambda p: p.measured_on)
        if not ordered:
            continue
        xy = [(x(p.measured_on), y(p.score)) for p in ordered]
        out.append(
            Markup('<polyline points="{}" fill="none" stroke="{}" stroke-width="{}"{}/>').format(
                " ".join(f"{px:.1f},{py:.1f}" for px, py in xy),
                _colour(j),
                1.5 if small else 2,
                Markup(' stroke-dasharray="5 3"') if j else Markup(""),
            )
        )
        radius = 2 if small else 4
        for p, (px, py) in zip(ordered, xy, strict=True):
            tip = f"{name} {p.measured_on.isoformat()}: {p.score}"
            out.append(_point(px, py, radius, _colour(j), square=bool(j), tip=tip))
    return _close(out)


def _checked(labels: Sequence[str], series: Sequence[Series]) -> list[list[float | None]]:
    """Each series' values: non-finite ones become None, negative ones zero."""
    if not series:
        raise ValueError("a chart needs at least one series")
    out = []
    for name, values in series:
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")
        out.append(
            [None if v is None or not math.isfinite(v) else max(float(v), 0.0) for v in values]
        )
    return out


def _empty(values: list[list[float | None]]) -> bool:
    return all(v is None for s in values for v in s)


def _ticks(top: float, step: float) -> list[float]:
    return [i * step for i in range(round(top / step) + 1)]


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "chart"


def _open(
    title: str, description: str, chart_id: str | None, height: int, width: int = WIDTH
) -> list[Markup]:
    cid = _slug(chart_id or title)
    return [
        Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {w} {h}" '
            'width="{w}" height="{h}" font-size="{f}" aria-labelledby="{c}-title {c}-desc">'
        ).format(w=width, h=height, f=FONT, c=cid),
        Markup('<title id="{}-title">{}</title>').format(cid, title),
        Markup('<desc id="{}-desc">{}</desc>').format(cid, description),
    ]


def _close(out: list[Markup], *more: Markup) -> Markup:
    return Markup("").join([*out, *more, Markup("</svg>")])


def _no_data(height: int) -> Markup:
    return _text(WIDTH / 2, height / 2, NO_DATA, anchor="middle", fill=MUTED)


def _legend(series: Sequence[Series]) -> list[Markup]:
    if len(series) < 2:
        return []
    out, x = [], 8.0
    for j, (name, _) in enumerate(series):
        out.append(
            Markup('<rect x="{:.1f}" y="10" width="14" height="14" fill="{}"/>').format(
                x, _colour(j)
            )
        )
        out.append(_text(x + 20, 22, name))
        x += 20 + _CHAR * len(name) + 24
    return out


def _number(value: float, unit: str) -> str:
    text = f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}".rstrip()


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str) -> Markup:
    return Markup(
        '<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="1"/>'
    ).format(x1, y1, x2, y2, stroke)


def _dashed(x1: float, y1: float, x2: float, y2: float, stroke: str) -> Markup:
    return Markup(
        '<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="1.5" '
        'stroke-dasharray="2 4"/>'
    ).format(x1, y1, x2, y2, stroke)


def _point(x: float, y: float, r: float, fill: str, *, square: bool, tip: str) -> Markup:
    if square:
        return Markup(
            '<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}">'
            "<title>{}</title></rect>"
        ).format(x - r, y - r, 2 * r, 2 * r, fill, tip)
    return Markup(
        '<circle cx="{:.1f}" cy="{:.1f}" r="{:.1f}" fill="{}"><title>{}</title></circle>'
    ).format(x, y, r, fill, tip)


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str) -> Markup:
    return Markup(
        '<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}">'
        "<title>{}</title></rect>"
    ).format(x, y, max(w, 0.0), max(h, 0.0), fill, tip)


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = INK) -> Markup:
    return Markup('<text x="{:.1f}" y="{:.1f}" text-anchor="{}" fill="{}">{}</text>').format(
        x, y, anchor, fill, text
    )
