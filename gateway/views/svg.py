"""Line charts as inline SVG, drawn on the server: no script, nothing fetched.

One chart is one point of one device over a time range: a line per instance (the
bucket averages) and, for a single line, a band from each bucket's minimum to its
maximum. Every text that came from a device or the site file is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from gateway.metrics.store.types import Sample

WIDTH, HEIGHT = 600, 180
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 10, 24
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
# Each line's dash pattern, so that lines differ without colour too (the legend shows it).
DASHES = ("", "6 3", "2 2", "8 3 2 3", "1 3", "10 4", "4 2 1 2", "3 5")


@dataclass(frozen=True, slots=True)
class Line:
    label: str  # the instance ("" for a scalar point)
    samples: Sequence[Sample]


def _nice_range(low: float, high: float) -> tuple[float, float]:
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        return low - pad, high + pad
    pad = (high - low) * 0.08
    return low - pad, high + pad


def _number(value: float, step: float) -> str:
    """``value`` with as many decimals as the grid ``step`` needs to tell labels apart."""
    if value == 0:
        return "0"
    if abs(value) >= 1e6:
        return f"{value:.3g}"
    decimals = max(0, min(6, 1 - math.floor(math.log10(step)))) if step > 0 else 2
    return f"{value:.{decimals}f}"


def _time_label(when: datetime, span: timedelta) -> str:
    return when.strftime("%H:%M") if span <= timedelta(days=1) else when.strftime("%m-%d")


def _dash(n: int) -> str:
    dash = DASHES[n % len(DASHES)]
    return f' stroke-dasharray="{dash}"' if dash else ""


def swatch(n: int) -> str:
    """A legend's sample of line ``n``: its colour and its dash pattern."""
    return (
        '<svg class="swatch" xmlns="http://www.w3.org/2000/svg" width="28" height="10" '
        f'aria-hidden="true"><line x1="0" y1="5" x2="28" y2="5" '
        f'stroke="{COLOURS[n % len(COLOURS)]}" stroke-width="2"{_dash(n)}/></svg>'
    )


def chart(
    title: str,
    unit: str,
    lines: Sequence[Line],
    start: datetime,
    end: datetime,
) -> str:
    """An ``<svg>`` element (as text) for ``lines`` between ``start`` and ``end``."""
    values = [v for line in lines for s in line.samples for v in (s.min, s.max)]
    head = (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>'
    )
    if not values or not all(math.isfinite(v) for v in values):
        return (
            head + f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle" '
            'fill="#888">no data in this range</text></svg>'
        )
    low, high = _nice_range(min(values), max(values))
    span = end - start
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(when: datetime) -> float:
        return LEFT + plot_w * ((when - start) / span if span else 0.0)

    def y(value: float) -> float:
        return TOP + plot_h * (1.0 - (value - low) / (high - low))

    parts = [head]
    grid = (high - low) / 4
    for i in range(5):  # horizontal grid with value labels
        value = low + grid * i
        py = y(value)
        parts.append(
            f'<line x1="{LEFT}" y1="{py:.1f}" x2="{WIDTH - RIGHT}" y2="{py:.1f}" stroke="#eee"/>'
            f'<text x="{LEFT - 4}" y="{py + 4:.1f}" text-anchor="end" font-size="10" '
            f'fill="#555">{escape(_number(value, grid))}</text>'
        )
    for i in range(5):  # time labels
        when = start + span * i / 4
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        parts.append(
            f'<text x="{x(when):.1f}" y="{HEIGHT - 6}" text-anchor="{anchor}" font-size="10" '
            f'fill="#555">{escape(_time_label(when, span))}</text>'
        )
    parts.append(
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#ccc"/>'
    )
    for n, line in enumerate(lines):
        colour = COLOURS[n % len(COLOURS)]
        samples = [s for s in line.samples if start <= s.ts <= end]
        if not samples:
            continue
        if len(lines) == 1 and any(s.min != s.max for s in samples):
            band = [f"{x(s.ts):.1f},{y(s.max):.1f}" for s in samples]
            band += [f"{x(s.ts):.1f},{y(s.min):.1f}" for s in reversed(samples)]
            parts.append(f'<polygon points="{" ".join(band)}" fill="{colour}" opacity="0.15"/>')
        path = " ".join(f"{x(s.ts):.1f},{y(s.avg):.1f}" for s in samples)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"'
            f"{_dash(n)}/>"
        )
        if len(samples) == 1:
            s = samples[0]
            parts.append(f'<circle cx="{x(s.ts):.1f}" cy="{y(s.avg):.1f}" r="2" fill="{colour}"/>')
    if unit:
        parts.append(f'<text x="4" y="{TOP + 10}" font-size="10" fill="#555">{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)
