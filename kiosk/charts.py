"""Charts drawn on the server as SVG for a page to hold: horizontal bars and a daily line.
No style attribute and no script (the Content-Security-Policy allows neither): colours and
type come from classes in static/desk.css. Each chart is an image with a title and a
description; the page shows the same figures in a table."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

WIDTH = 720
BAR_LABEL_WIDTH = 260  # where the bars start; a longer label is cut (the table has it whole)
BAR_LABEL_CHARACTERS = 30
BAR_ROW = 26
BAR_HEIGHT = 18
BAR_VALUE_ROOM = 70  # right of the longest bar, for its figure
LINE_HEIGHT = 260
LINE_MARGINS = (14, 20, 44, 56)  # top, right, bottom, left: room for the axes' labels
X_TICKS = 6  # dates written under the line, the first and last among them
Y_TICKS = 4
POINTS_SHOWN = 62  # a dot on each day up to two months; beyond, the line alone


def _shorten(label: str) -> str:
    if len(label) <= BAR_LABEL_CHARACTERS:
        return label
    return label[: BAR_LABEL_CHARACTERS - 1].rstrip() + "…"


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _opening(chart_id: str, width: int, height: int, title: str, description: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{escape(chart_id)}-title" aria-describedby="{escape(chart_id)}-desc">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>'
    )


def bar_chart(
    chart_id: str,
    bars: Sequence[tuple[str, int | float]],
    title: str,
    description: str,
    value_text: Callable[[int | float], str] = str,
) -> Markup:
    """One horizontal bar per (label, value), in the order given, scaled to the largest."""
    height = max(len(bars), 1) * BAR_ROW + 8
    largest = max((value for _, value in bars), default=0) or 1
    room = WIDTH - BAR_LABEL_WIDTH - BAR_VALUE_ROOM
    parts = [_opening(chart_id, WIDTH, height, title, description)]
    parts.append(
        f'<line class="chart-axis" x1="{BAR_LABEL_WIDTH}" y1="4" '
        f'x2="{BAR_LABEL_WIDTH}" y2="{height - 4}"/>'
    )
    for row, (label, value) in enumerate(bars):
        top = 4 + row * BAR_ROW + (BAR_ROW - BAR_HEIGHT) / 2
        middle = 4 + row * BAR_ROW + BAR_ROW / 2
        length = room * max(value, 0) / largest
        parts.append(
            f'<text class="chart-label" x="{BAR_LABEL_WIDTH - 8}" y="{_number(middle)}" '
            f'text-anchor="end" dominant-baseline="middle">{escape(_shorten(label))}</text>'
            f'<rect class="chart-bar" x="{BAR_LABEL_WIDTH}" y="{_number(top)}" '
            f'width="{_number(length)}" height="{BAR_HEIGHT}"/>'
            f'<text class="chart-value" x="{_number(BAR_LABEL_WIDTH + length + 6)}" '
            f'y="{_number(middle)}" dominant-baseline="middle">{escape(value_text(value))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def nice_step(largest: int, ticks: int = Y_TICKS) -> int:
    """A round step (1, 2 or 5 times a power of ten, at least 1) that covers `largest` in
    about `ticks` steps."""
    rough = max(largest / ticks, 1)
    power = 10 ** math.floor(math.log10(rough))
    for factor in (1, 2, 5, 10):
        if factor * power >= rough:
            return int(factor * power)
    return int(10 * power)  # not reached: factor 10 always covers


def tick_indexes(count: int, ticks: int = X_TICKS) -> list[int]:
    """Evenly spread positions among `count` points, the first and the last included."""
    if count <= ticks:
        return list(range(count))
    return sorted({round(n * (count - 1) / (ticks - 1)) for n in range(ticks)})


def line_chart(
    chart_id: str,
    points: Sequence[tuple[dt.date, int]],
    title: str,
    description: str,
    day_text: Callable[[dt.date], str],
    value_text: Callable[[int], str] = str,
) -> Markup:
    """A line through one value per day, over axes: round values up the side, a few dates
    along the bottom."""
    top, right, bottom, left = LINE_MARGINS
    plot_width, plot_height = WIDTH - left - right, LINE_HEIGHT - top - bottom
    step = nice_step(max((value for _, value in points), default=0))
    ceiling = step * max(math.ceil(max((value for _, value in points), default=0) / step), 1)

    def x(index: int) -> float:
        if len(points) == 1:
            return left + plot_width / 2
        return left + plot_width * index / (len(points) - 1)

    def y(value: float) -> float:
        return top + plot_height * (1 - value / ceiling)

    parts = [_opening(chart_id, WIDTH, LINE_HEIGHT, title, description)]
    for value in range(0, ceiling + 1, step):
        parts.append(
            f'<line class="chart-grid" x1="{left}" y1="{_number(y(value))}" '
            f'x2="{WIDTH - right}" y2="{_number(y(value))}"/>'
            f'<text class="chart-tick" x="{left - 8}" y="{_number(y(value))}" '
            f'text-anchor="end" dominant-baseline="middle">{escape(value_text(value))}</text>'
        )
    parts.append(
        f'<line class="chart-axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_height}"/>'
        f'<line class="chart-axis" x1="{left}" y1="{top + plot_height}" '
        f'x2="{WIDTH - right}" y2="{top + plot_height}"/>'
    )
    for index in tick_indexes(len(points)):
        anchor = "start" if index == 0 else ("end" if index == len(points) - 1 else "middle")
        if len(points) == 1:
            anchor = "middle"
        parts.append(
            f'<line class="chart-axis" x1="{_number(x(index))}" y1="{top + plot_height}" '
            f'x2="{_number(x(index))}" y2="{top + plot_height + 5}"/>'
            f'<text class="chart-tick" x="{_number(x(index))}" y="{top + plot_height + 20}" '
            f'text-anchor="{anchor}">{escape(day_text(points[index][0]))}</text>'
        )
    coordinates = " ".join(
        f"{_number(x(index))},{_number(y(value))}" for index, (_, value) in enumerate(points)
    )
    if len(points) > 1:
        parts.append(f'<polyline class="chart-line" points="{coordinates}"/>')
    if len(points) <= POINTS_SHOWN:
        parts += [
            f'<circle class="chart-point" cx="{_number(x(index))}" cy="{_number(y(value))}" r="3"/>'
            for index, (_, value) in enumerate(points)
        ]
    parts.append("</svg>")
    return Markup("".join(parts))
