"""Small bar charts as inline SVG, drawn on the server: no script, and a table on the page says the same.

The chart is an image with a title (`role="img"`, `<title>`) whose description is the table next to it
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
    # Four equal steps of a round size; counts step by whole numbers, so no tick label repeats.
    step = nice_ceiling(max((v for s in series for v in s.values), default=0) / 4)
    top = 4 * (max(1.0, step) if value_label is _count else step)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="zvh-chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {width} {_HEIGHT}" width="{width}" height="{_HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-titel" aria-describedby="{escape(table_id)}">',
        f'<title id="{escape(chart_id)}-titel">{escape(title)}</title>',
    ]
    for tick in range(5):
        value = top * tick / 4
        y = _TOP + plot - plot * tick / 4
        parts.append(
            f'<line class="zvh-chart__grid" x1="{_LEFT}" x2="{width - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ccc" stroke-width="1"/>'
            f'<text class="zvh-chart__tick" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{escape(value_label(value))}</text>"
        )
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
        x = _LEFT + number * _LEGEND
        parts.append(
            f'<rect class="zvh-chart__bar--{number}" x="{x}" y="8" width="12" height="12" '
            f'fill="{PALETTE[number % len(PALETTE)]}"/>'
            f'<text class="zvh-chart__legend" x="{x + 16}" y="18" font-size="12">{escape(row.name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
