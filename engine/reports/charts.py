"""A line chart as inline SVG for the reports, in the style of the Bewaking's bar charts (engine.monitor.charts).

Like the bars, the chart is an image with a title whose description is the table beside it (`aria-describedby`),
so a screen reader reads the figures from the table. Every text is escaped here; the result is safe to insert.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from engine.monitor.charts import PALETTE, Series, nice_ceiling

_HEIGHT, _TOP, _BOTTOM, _LEFT, _RIGHT = 240, 34, 40, 56, 24
_STEP, _LEGEND = 64, 150


def _count(value: float) -> str:
    return f"{value:.0f}"


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
    width = max(_LEFT + _RIGHT + max(1, len(labels)) * _STEP, _LEFT + len(series) * _LEGEND)
    plot = _HEIGHT - _TOP - _BOTTOM
    step = nice_ceiling(max((v for s in series for v in s.values), default=0) / 4)
    top = 4 * (max(1.0, step) if value_label is _count else step)
    cid = escape(chart_id)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="zvh-chart zvh-chart--line" id="{cid}" '
        f'viewBox="0 0 {width} {_HEIGHT}" width="{width}" height="{_HEIGHT}" role="img" '
        f'aria-labelledby="{cid}-titel" aria-describedby="{escape(table_id)}">',
        f'<title id="{cid}-titel">{escape(title)}</title>',
    ]
    for tick in range(5):
        y = _TOP + plot - plot * tick / 4
        parts.append(
            f'<line class="zvh-chart__grid" x1="{_LEFT}" x2="{width - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#ccc" stroke-width="1"/>'
            f'<text class="zvh-chart__tick" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
            f"{escape(value_label(top * tick / 4))}</text>"
        )

    def x_of(index: int) -> float:
        return _LEFT + _STEP / 2 + index * _STEP

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
        legend_x = _LEFT + number * _LEGEND
        parts.append(
            f'<rect x="{legend_x}" y="8" width="12" height="12" fill="{colour}"/>'
            f'<text class="zvh-chart__legend" x="{legend_x + 16}" y="18" font-size="12">{escape(row.name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
