"""Unit tests for the server-side SVG charts: valid, accessible, proportional, never NaN."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date

import pytest

from hub.charts import NO_DATA, PALETTE, bar_chart, hbar_chart, nice_scale, trend_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    """The chart as XML (fails the test if it is not well-formed)."""
    return ET.fromstring(str(markup))


def bars(root: ET.Element, colour: str | None = None) -> list[ET.Element]:
    """The data bars (rects with a tooltip), optionally of one series' colour."""
    return [
        r
        for r in root.iter(f"{SVG}rect")
        if r.find(f"{SVG}title") is not None and (colour is None or r.get("fill") == colour)
    ]


def texts(root: ET.Element) -> list[str]:
    """Every visible text of the chart."""
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def numbers_in(root: ET.Element) -> list[float]:
    """Every coordinate and size attribute of the chart, as numbers."""
    return [
        float(v)
        for e in root.iter()
        for k, v in e.attrib.items()
        if k in ("x", "y", "x1", "y1", "x2", "y2", "width", "height")
    ]


def test_a_bar_chart_is_an_svg_image_named_by_its_title_and_description() -> None:
    root = parse(
        bar_chart(
            "Weekly capacity",
            ["1 Mar", "8 Mar"],
            [("Capacity", [40, 30])],
            "h",
            description="Hours offered each week.",
            chart_id="cap",
        )
    )
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.get("aria-labelledby") == "cap-title cap-desc"
    assert root.find(f"{SVG}title[@id='cap-title']").text == "Weekly capacity"
    assert root.find(f"{SVG}desc[@id='cap-desc']").text == "Hours offered each week."
    assert root.get("viewBox", "").startswith("0 0 ")


def test_bar_heights_are_proportional_to_the_values() -> None:
    root = parse(bar_chart("T", ["a", "b", "c"], [("S", [10, 20, 40])], "h"))
    heights = [float(r.get("height", "0")) for r in bars(root)]
    assert len(heights) == 3
    assert heights[1] == pytest.approx(2 * heights[0], abs=0.11)
    assert heights[2] == pytest.approx(4 * heights[0], abs=0.11)


def test_bars_stand_on_one_baseline() -> None:
    root = parse(bar_chart("T", ["a", "b"], [("S", [10, 25])], "h"))
    bottoms = {round(float(r.get("y", "0")) + float(r.get("height", "0")), 1) for r in bars(root)}
    assert len(bottoms) == 1


def test_each_series_has_its_colour_its_legend_entry_and_a_tooltip_per_bar() -> None:
    root = parse(
        bar_chart("T", ["1 Mar", "8 Mar"], [("Capacity", [40, 30]), ("Booked", [12, 6])], "h")
    )
    assert len(bars(root, PALETTE[0])) == 2 and len(bars(root, PALETTE[1])) == 2
    assert {"Capacity", "Booked"} <= set(texts(root))
    tips = [r.find(f"{SVG}title").text for r in bars(root)]
    assert "1 Mar, Capacity: 40 h" in tips and "8 Mar, Booked: 6 h" in tips


def test_the_axis_is_labelled_in_round_numbers_with_the_unit() -> None:
    root = parse(bar_chart("T", ["a"], [("Rate", [7.5])], "%", at_least=10))
    labels = texts(root)
    assert "0%" in labels and "10%" in labels
    assert "12%" not in labels


def test_text_is_escaped_so_markup_in_names_stays_text() -> None:
    name = 'Dr <b>"Smith"</b> & Co'
    markup = hbar_chart(name, [name], [("Median", [3.0])], "h", description="<script>")
    assert "<b>" not in markup and "<script>" not in markup
    root = parse(markup)
    assert root.find(f"{SVG}title").text == name
    assert root.find(f"{SVG}desc").text == "<script>"


def test_missing_and_non_finite_values_draw_no_bar_and_never_a_nan() -> None:
    markup = bar_chart(
        "T", ["a", "b", "c", "d"], [("S", [None, math.nan, math.inf, 5.0])], "%", at_least=10
    )
    root = parse(markup)
    assert len(bars(root)) == 1
    assert texts(root).count("\u2013") == 3  # a dash where a value is missing
    assert "nan" not in markup.lower() and "inf" not in markup.lower()
    assert all(math.isfinite(n) for n in numbers_in(root))


def test_an_empty_chart_says_there_is_no_data() -> None:
    for markup in (
        bar_chart("Nothing", [], [("S", [])], "h"),
        hbar_chart("Nothing", [], [("S", [])], "h"),
        bar_chart("All missing", ["a", "b"], [("S", [None, None])], "h"),
    ):
        root = parse(markup)
        assert root.get("role") == "img"
        assert NO_DATA in texts(root)
        assert bars(root) == []


def test_all_zero_values_draw_without_dividing_by_zero() -> None:
    root = parse(bar_chart("T", ["a", "b"], [("S", [0, 0])], "h"))
    assert [float(r.get("height", "-1")) for r in bars(root)] == [0.0, 0.0]
    assert all(math.isfinite(n) for n in numbers_in(root))


def test_horizontal_bars_are_proportional_and_carry_their_notes() -> None:
    root = parse(
        hbar_chart(
            "Loop closure",
            ["Riverside", "Hilltop"],
            [("Median", [6.0, 12.0])],
            "h",
            notes=["50% ack.", "100% ack."],
        )
    )
    widths = [float(r.get("width", "0")) for r in bars(root)]
    assert widths[1] == pytest.approx(2 * widths[0], abs=0.11)
    assert {"Riverside", "Hilltop", "50% ack.", "100% ack."} <= set(texts(root))


def test_a_long_row_label_is_shortened_in_the_drawing_but_whole_in_the_tooltip() -> None:
    long = "Doctor " + "Name" * 30
    root = parse(hbar_chart("T", [long], [("Median", [2.0])], "h"))
    assert long not in texts(root)
    assert any(t.endswith("\u2026") for t in texts(root))
    assert bars(root)[0].find(f"{SVG}title").text == f"{long}, Median: 2 h"


def test_a_value_above_the_axis_is_drawn_within_the_chart() -> None:
    root = parse(hbar_chart("T", ["a"], [("S", [100.0])], "h"))
    (bar,) = bars(root)
    width = float(root.get("width", "0"))
    assert float(bar.get("x", "0")) + float(bar.get("width", "0")) <= width


def test_series_and_labels_must_match_in_length() -> None:
    with pytest.raises(ValueError, match="2 values for 3 labels"):
        bar_chart("T", ["a", "b", "c"], [("S", [1, 2])], "h")
    with pytest.raises(ValueError, match="one note per label"):
        hbar_chart("T", ["a"], [("S", [1])], "h", notes=[])
    with pytest.raises(ValueError, match="at least one series"):
        bar_chart("T", ["a"], [], "h")


@pytest.mark.parametrize(
    ("top", "expected"),
    [(40, (40, 10)), (7, (8, 2)), (100, (100, 25)), (12.5, (15, 5)), (0, (1, 0.25))],
)
def test_the_axis_maximum_is_a_round_number_at_or_above_the_data(
    top: float, expected: tuple[float, float]
) -> None:
    assert nice_scale(top) == pytest.approx(expected)


def test_each_horizontal_bar_is_labelled_with_its_value() -> None:
    root = parse(hbar_chart("T", ["a", "b"], [("Median", [2.5, 40.0]), ("90th", [None, 8.0])], "h"))
    assert {"2.5 h", "40 h", "8 h"} <= set(texts(root))
    inside = [t.text for t in root.iter(f"{SVG}text") if t.get("fill") == "#ffffff"]
    assert inside == ["40 h"]  # no room after the longest bar: written inside it


# The registry's trend chart: PHQ-9 and GAD-7 over time, with the target and remission lines.


@dataclass(frozen=True)
class Point:
    """A questionnaire total on a day, as care.rules.Score gives it."""

    measured_on: date
    score: int


def phq(*pairs: tuple[str, int]) -> list[Point]:
    return [Point(date.fromisoformat(d), s) for d, s in pairs]


def circles(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{SVG}circle"))


def test_a_trend_chart_is_an_svg_image_named_by_its_title_and_description() -> None:
    root = parse(
        trend_chart(
            "PHQ-9 and GAD-7 of A. Patient",
            phq(("2027-01-04", 18)),
            description="PHQ-9 fell from 18.",
            chart_id="t1",
        )
    )
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "t1-title t1-desc"
    assert root.find(f"{SVG}title[@id='t1-title']").text == "PHQ-9 and GAD-7 of A. Patient"
    assert root.find(f"{SVG}desc[@id='t1-desc']").text == "PHQ-9 fell from 18."


def test_each_phq9_is_a_round_point_placed_by_date_oldest_left_and_higher_scores_higher() -> None:
    root = parse(trend_chart("t", phq(("2027-03-01", 8), ("2027-01-04", 20), ("2027-02-01", 14))))
    points = circles(root)
    assert len(points) == 3
    xs = [float(c.get("cx")) for c in points]
    ys = [float(c.get("cy")) for c in points]
    assert xs == sorted(xs)  # drawn oldest first
    assert ys[0] < ys[1] < ys[2]  # 20, 14, 8: a fall goes down the page
    assert [c.find(f"{SVG}title").text for c in points] == [
        "PHQ-9 2027-01-04: 20",
        "PHQ-9 2027-02-01: 14",
        "PHQ-9 2027-03-01: 8",
    ]

    # Four weeks after one week: the x axis is time, not the order of the points.
    spaced = parse(trend_chart("t", phq(("2027-01-04", 9), ("2027-01-11", 9), ("2027-02-08", 9))))
    sx = [float(c.get("cx")) for c in circles(spaced)]
    assert (sx[2] - sx[1]) == pytest.approx((sx[1] - sx[0]) * 4, rel=0.01)


def test_gad7_points_are_squares_on_a_dashed_line_so_colour_is_not_the_only_difference() -> None:
    root = parse(
        trend_chart("t", phq(("2027-01-04", 12)), phq(("2027-01-04", 9), ("2027-02-04", 6)))
    )
    lines = list(root.iter(f"{SVG}polyline"))
    assert [ln.get("stroke") for ln in lines] == [PALETTE[0], PALETTE[1]]
    assert lines[0].get("stroke-dasharray") is None and lines[1].get("stroke-dasharray")
    squares = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert [r.find(f"{SVG}title").text for r in squares] == [
        "GAD-7 2027-01-04: 9",
        "GAD-7 2027-02-04: 6",
    ]
    assert "PHQ-9" in texts(root) and "GAD-7" in texts(root)


def test_the_target_and_remission_lines_are_drawn_at_their_scores_and_named() -> None:
    root = parse(
        trend_chart("t", phq(("2027-01-04", 18), ("2027-02-04", 12)), target=9.0, remission_below=5)
    )
    dashed = [ln for ln in root.iter(f"{SVG}line") if ln.get("stroke-dasharray") == "2 4"]
    assert len(dashed) == 2
    y_target, y_remission = (float(ln.get("y1")) for ln in dashed)
    y_zero = max(float(ln.get("y1")) for ln in root.iter(f"{SVG}line"))
    # Each line sits where its score would: 9 and 5 of the same 0-27 axis.
    assert (y_zero - y_target) / (y_zero - y_remission) == pytest.approx(9 / 5, rel=0.02)
    assert "Target: 9" in texts(root) and "Remission: below 5" in texts(root)
    high = next(float(c.get("cy")) for c in circles(root))
    assert high < y_target  # 18 is above the target of 9


def test_one_measure_sits_in_the_middle_and_no_measure_says_no_data() -> None:
    one = parse(trend_chart("t", phq(("2027-01-04", 10))))
    (point,) = circles(one)
    assert 0 < float(point.get("cx")) < int(one.get("width"))
    empty = parse(trend_chart("t", []))
    assert NO_DATA in texts(empty)
    assert not circles(empty) and not list(empty.iter(f"{SVG}polyline"))


def test_a_small_trend_fits_a_table_row_without_words_and_keeps_its_name() -> None:
    root = parse(
        trend_chart(
            "PHQ-9 trend",
            phq(("2027-01-04", 27), ("2027-02-04", 0)),
            target=13.5,
            remission_below=5,
            small=True,
            chart_id="row-1",
        )
    )
    assert int(root.get("width")) <= 200 and int(root.get("height")) <= 60
    assert root.find(f"{SVG}title").text == "PHQ-9 trend"
    assert texts(root) == []  # the numbers are in the row's table cells
    ys = [float(c.get("cy")) for c in circles(root)]
    assert min(ys) >= 0 and max(ys) <= int(root.get("height"))
    assert all(math.isfinite(n) for n in numbers_in(root))


def test_text_in_a_trend_chart_is_escaped() -> None:
    root = parse(trend_chart("<b>O'Hara & co</b>", phq(("2027-01-04", 3))))
    assert root.find(f"{SVG}title").text == "<b>O'Hara & co</b>"
