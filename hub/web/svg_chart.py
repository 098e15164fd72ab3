"""Charts drawn on the hub as inline SVG: no chart library, nothing for a Pi to run in
the browser, and the page prints as it shows."""

from __future__ import annotations

import math
from collections.abc import Collection
from html import escape

from markupsafe import Markup


def volume_and_rate(labels: list[str], volumes: list[int], rates: list[float | None],
                    title: str, volume_name: str = "办件量", rate_name: str = "好评率",
                    width: int = 900, height: int = 320) -> Markup:
    """Bars of volume on the left axis and a line of a rate (0-1) on the right one."""
    left, right, top, bottom = 56, 56, 36, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(labels), 1)
    step = plot_w / n
    peak = max(volumes, default=0) or 1
    scale = _nice(peak)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'class="chart" role="img" aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>',
             f'<text x="{left}" y="22" class="chart-title">{escape(title)}</text>']
    for i in range(5):  # grid lines and both axes' ticks
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     'class="chart-grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 5:.1f}" text-anchor="end" '
                     f'class="chart-tick">{scale * i // 4}</text>')
        parts.append(f'<text x="{left + plot_w + 6}" y="{y + 5:.1f}" '
                     f'class="chart-tick">{25 * i}%</text>')
    points: list[str] = []
    dots: list[str] = []  # drawn over the line, the line over the bars
    for i, (label, volume, rate) in enumerate(zip(labels, volumes, rates, strict=True)):
        x = left + step * i
        bar_h = plot_h * volume / scale
        parts.append(f'<rect x="{x + step * 0.2:.1f}" y="{top + plot_h - bar_h:.1f}" '
                     f'width="{step * 0.6:.1f}" height="{bar_h:.1f}" class="chart-bar">'
                     f'<title>{escape(label)}：{volume_name} {volume}</title></rect>')
        parts.append(f'<text x="{x + step / 2:.1f}" y="{height - bottom + 20}" '
                     f'text-anchor="middle" class="chart-tick">{escape(label)}</text>')
        if rate is not None:
            cy = top + plot_h * (1 - rate)
            points.append(f"{x + step / 2:.1f},{cy:.1f}")
            dots.append(f'<circle cx="{x + step / 2:.1f}" cy="{cy:.1f}" r="5" '
                         f'class="chart-dot"><title>{escape(label)}：{rate_name} '
                         f'{rate:.1%}</title></circle>')
    if len(points) > 1:
        parts.append(f'<polyline points="{" ".join(points)}" class="chart-line"/>')
    parts += dots
    legend_x = width - right - 220
    parts.append(f'<rect x="{legend_x}" y="10" width="14" height="14" class="chart-bar"/>'
                 f'<text x="{legend_x + 20}" y="22" class="chart-tick">{volume_name}</text>'
                 f'<circle cx="{legend_x + 117}" cy="17" r="5" class="chart-dot"/>'
                 f'<text x="{legend_x + 128}" y="22" class="chart-tick">{rate_name}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))



def bars(labels: list[str], values: list[float], title: str, *, digits: int = 0,
         highlight: Collection[int] = (), value_name: str = "", highlight_name: str = "",
         axis_note: str = "", gap: float = 0.4, width: int = 900, height: int = 320) -> Markup:
    """Plain bars on one axis, each with its value over it (`digits` decimals; none over a
    zero). The bars at the indexes `highlight` are drawn in the accent colour and named in
    the legend; a small `gap` between the bars makes a histogram. `axis_note` names the
    categories, under the axis at its end."""
    left, right, top, bottom = 56, 24, 44, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(labels), 1)
    scale = _nice(math.ceil(max(values, default=0)))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'class="chart" role="img" aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>',
             f'<text x="{left}" y="22" class="chart-title">{escape(title)}</text>']
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     'class="chart-grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 5:.1f}" text-anchor="end" '
                     f'class="chart-tick">{scale * i // 4}</text>')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = left + step * i
        bar_h = plot_h * value / scale
        shown = f"{value:.{digits}f}"
        kind = "chart-bar chart-busy" if i in highlight else "chart-bar"
        named = f"（{highlight_name}）" if i in highlight and highlight_name else ""
        parts.append(f'<rect x="{x + step * gap / 2:.1f}" y="{top + plot_h - bar_h:.1f}" '
                     f'width="{step * (1 - gap):.1f}" height="{bar_h:.1f}" class="{kind}">'
                     f'<title>{escape(label)}：{escape(value_name)} {shown}{named}</title></rect>')
        if value:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{top + plot_h - bar_h - 6:.1f}" '
                         f'text-anchor="middle" class="chart-value">{shown}</text>')
        parts.append(f'<text x="{x + step / 2:.1f}" y="{height - bottom + 20}" '
                     f'text-anchor="middle" class="chart-tick">{escape(label)}</text>')
    if axis_note:
        parts.append(f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end" '
                     f'class="chart-tick">{escape(axis_note)}</text>')
    legend_x = width - right - 260
    if value_name:
        parts.append(f'<rect x="{legend_x}" y="10" width="14" height="14" class="chart-key"/>'
                     f'<text x="{legend_x + 20}" y="22" class="chart-tick">'
                     f'{escape(value_name)}</text>')
    if highlight and highlight_name:
        parts.append(f'<rect x="{legend_x + 130}" y="10" width="14" height="14" '
                     f'class="chart-key chart-busy"/><text x="{legend_x + 150}" y="22" '
                     f'class="chart-tick">{escape(highlight_name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def histogram(labels: list[str], counts: list[int], title: str, axis_note: str,
              value_name: str = "人数", width: int = 900, height: int = 320) -> Markup:
    """A distribution: a bar for each range of values, side by side."""
    return bars(labels, [float(n) for n in counts], title, value_name=value_name,
                axis_note=axis_note, gap=0.06, width=width, height=height)

def _nice(peak: int) -> int:
    """The axis top: the peak rounded up to 4 even steps of 1, 2 or 5 × 10ⁿ."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if step * m * 4 >= peak:
                return step * m * 4
        step *= 10
