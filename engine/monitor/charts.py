"""Small bar and line charts as inline SVG, drawn on the server: no script, and a table on the page says the same.

A chart is an image with a title (`role="img"`, `<title>`) whose description is the table next to it
(`aria-describedby`), so a screen reader reads the figures from the table. Every text is escaped here; the result
is safe to insert into a page as is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

#: Bar colours per series (the stylesheet may override them through the classes).
PALETTE = ("#154273", "#e17000", "#39870c", "#8fcae7")
_HEIGHT, _TOP, _BOTTOM, _LEFT, _RIGHT = 260, 34, 78, 72, 12
_LEGEND = 150
_BAR, _GAP, _LABEL_CHARS = 16, 14, 18


@dataclass(frozen=True)
class Series:
    """One row of bars: a name for the legend and one value per label."""

    name: str
    values: Sequence[float]


def _count(value: float) -> str:
    return f"{value:.0f}"


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least `value` (the top of the axis)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def _axis_top(series: Sequence[Series], value_label: Callable[[float], str]) -> float:
    """The top of the value axis: four equal steps of a round size (counts step by whole numbers)."""
    step = nice_ceiling(max((v for s in series for v in s.values), default=0) / 4)
    return 4 * (max(1.0, step) if value_label is _count else step)


def _frame(*, chart_id: str, title: str, table_id: str, width: int, height: int, kind: str) -> list[str]:
    """The opening of a chart: an image titled `title`, described by the table `table_id`."""
    cid = escape(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="zvh-chart{kind}" id="{cid}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{cid}-titel" aria-describedby="{escape(table_id)}">',
        f'<title id="{cid}-titel">{escape(title)}</title>',
    ]


def _grid(*, top: float, plot_top: int, plot: int, left: int, right: int, value_label: Callable[[float], str]) -> str:
    """Five horizontal grid lines with their values, from 0 to `top`."""
    lines = []
    for tick in range(5):
        y = plot_top + plot - plot * tick / 4
        lines.append(
            f'<line class="zvh-chart__grid" x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ccc" stroke-width="1"/>'
            f'<text class="zvh-chart__tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{escape(value_label(top * tick / 4))}</text>"
        )
    return "".join(lines)


def _legend(number: int, name: str, x: int, *, swatch_class: str = "") -> str:
    colour = PALETTE[number % len(PALETTE)]
    return (
        f'<rect{swatch_class} x="{x}" y="8" width="12" height="12" fill="{colour}"/>'
        f'<text class="zvh-chart__legend" x="{x + 16}" y="18" font-size="12">{escape(name)}</text>'
    )


def bar_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    table_id: str,
    value_label: Callable[[float], str] = _count,
) -> str:
    """Grouped vertical bars, one group per label; `table_id` is the table with the same figures."""
    group = len(series) * _BAR + _GAP
    width = max(_LEFT + _RIGHT + max(1, len(labels)) * group, _LEFT + len(series) * _LEGEND)
    plot = _HEIGHT - _TOP - _BOTTOM
    top = _axis_top(series, value_label)
    parts = _frame(chart_id=chart_id, title=title, table_id=table_id, width=width, height=_HEIGHT, kind="")
    parts.append(_grid(top=top, plot_top=_TOP, plot=plot, left=_LEFT, right=width - _RIGHT, value_label=value_label))
    for index, label in enumerate(labels):
        x0 = _LEFT + index * group + _GAP / 2
        for number, row in enumerate(series):
            value = row.values[index]
            height = plot * value / top
            parts.append(
                f'<rect class="zvh-chart__bar zvh-chart__bar--{number}" x="{x0 + number * _BAR:.1f}" '
                f'y="{_TOP + plot - height:.1f}" width="{_BAR - 2}" height="{height:.1f}" '
                f'fill="{PALETTE[number % len(PALETTE)]}">'
                f"<title>{escape(f'{label} – {row.name}: {value_label(value)}')}</title></rect>"
            )
        x = x0 + len(series) * _BAR / 2
        y = _TOP + plot + 14
        parts.append(
            f'<text class="zvh-chart__label" x="{x:.1f}" y="{y:.1f}" text-anchor="end" font-size="11" '
            f'transform="rotate(-35 {x:.1f} {y:.1f})">{escape(_short(label))}</text>'
        )
    for number, row in enumerate(series):
        parts.append(
            _legend(number, row.name, _LEFT + number * _LEGEND, swatch_class=f' class="zvh-chart__bar--{number}"')
        )
    parts.append("</svg>")
    return "".join(parts)


#: The line chart: its own height and margins, one point every `_STEP` pixels.
_LINE_HEIGHT, _LINE_BOTTOM, _LINE_LEFT, _LINE_RIGHT, _STEP = 240, 40, 56, 24, 64


def line_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    table_id: str,
    value_label: Callable[[float], str] = _count,
) -> str:
    """One line per series through one point per label (e.g. the total per year); `table_id` holds the figures."""
    width = max(_LINE_LEFT + _LINE_RIGHT + max(1, len(labels)) * _STEP, _LINE_LEFT + len(series) * _LEGEND)
    plot = _LINE_HEIGHT - _TOP - _LINE_BOTTOM
    top = _axis_top(series, value_label)
    parts = _frame(
        chart_id=chart_id, title=title, table_id=table_id, width=width, height=_LINE_HEIGHT, kind=" zvh-chart--line"
    )
    parts.append(
        _grid(top=top, plot_top=_TOP, plot=plot, left=_LINE_LEFT, right=width - _LINE_RIGHT, value_label=value_label)
    )

    def x_of(index: int) -> float:
        return _LINE_LEFT + _STEP / 2 + index * _STEP

    for index, label in enumerate(labels):
        parts.append(
            f'<text class="zvh-chart__label" x="{x_of(index):.1f}" y="{_TOP + plot + 18}" text-anchor="middle" '
            f'font-size="11">{escape(label)}</text>'
        )
    for number, row in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        points = [(x_of(i), _TOP + plot - plot * value / top) for i, value in enumerate(row.values)]
        parts.append(
            f'<polyline class="zvh-chart__line zvh-chart__line--{number}" fill="none" stroke="{colour}" '
            f'stroke-width="2.5" points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}"/>'
        )
        for (x, y), label, value in zip(points, labels, row.values, strict=True):
            parts.append(
                f'<circle class="zvh-chart__point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
                f"<title>{escape(f'{label} – {row.name}: {value_label(value)}')}</title></circle>"
            )
        parts.append(_legend(number, row.name, _LINE_LEFT + number * _LEGEND))
    parts.append("</svg>")
    return "".join(parts)
