"""A server-drawn bar chart: geometry computed here, drawn by the template as plain SVG attributes.

The CSP forbids inline scripts and style attributes, so there is no chart library: bars are <rect>s
with x/y/width/height, coloured by classes from app.css, each with a <title> for hover and
assistive tech; the same numbers are also printed as a table beside the chart.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT, GAP, TOP, BOTTOM, LEFT = 900, 200, 2, 10, 20, 4


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    max_value: int
    baseline: float
    ticks: list[tuple[float, str]]


def bar_chart(labels: list[str], values: list[int]) -> Chart:
    """Bars scaled to the largest value; negative days (refunds > captures) are drawn as zero-height."""
    top = max([*values, 0]) or 1
    plot = HEIGHT - TOP - BOTTOM
    step = (WIDTH - LEFT) / max(len(values), 1)
    bars = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = round(plot * max(value, 0) / top, 1)
        x, y = round(LEFT + i * step, 1), round(TOP + plot - height, 1)
        bars.append(Bar(x, y, round(step - GAP, 1), height, label, value))
    ticks = [(bar.x, bar.label[5:]) for i, bar in enumerate(bars) if i % 7 == 0]
    return Chart(WIDTH, HEIGHT, bars, top, TOP + plot, ticks)
