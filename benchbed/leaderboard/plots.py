"""Plots as SVG text, drawn here without a plotting library so the site needs nothing online.

The quality-against-throughput plot is written inline. Figures from plugins are SVG that
the leaderboard did not write: they are shown through <img> as data URIs, where a browser
runs no script and fetches nothing, so a careless or hostile figure cannot touch the page.
"""

from __future__ import annotations

import base64
import logging
import math
from dataclasses import dataclass
from html import escape
from typing import Any

from benchbed.leaderboard.table import Row, Table
from benchbed.specs import HIGHER

log = logging.getLogger("benchbed.leaderboard")

WIDTH, HEIGHT = 560, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 44


def pareto_front(points: list[tuple[float, float]], higher_is_better: bool) -> list[int]:
    """Indices of the points no other point beats on both throughput (x) and quality (y)."""
    sign = 1 if higher_is_better else -1

    def dominates(p: tuple[float, float], q: tuple[float, float]) -> bool:
        return p[0] >= q[0] and sign * p[1] >= sign * q[1] and p != q

    return [i for i, q in enumerate(points) if not any(dominates(p, q) for p in points)]


def quality_vs_throughput(table: Table) -> str | None:
    """Inline SVG: each row's main metric against its throughput, Pareto front marked."""
    rows = [
        r
        for r in table.rows
        if r.quality is not None
        and math.isfinite(r.quality.interval.mean)
        and (r.cost.get("throughput") or 0) > 0
    ]
    if not rows or table.direction is None:
        return None
    points = [(r.cost["throughput"], r.quality.interval.mean) for r in rows]
    front = set(pareto_front(points, table.direction == HIGHER))
    xs = [math.log10(x) for x, _ in points]
    ys = [y for _, y in points]
    x0, x1 = _padded(min(xs), max(xs), 0.5)
    y0, y1 = _padded(min(ys), max(ys), 0.05 * (abs(max(ys)) or 1))

    def px(x: float) -> float:
        return LEFT + (math.log10(x) - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT)

    def py(y: float) -> float:
        return HEIGHT - BOTTOM - (y - y0) / (y1 - y0) * (HEIGHT - TOP - BOTTOM)

    title = f"{table.main_metric} ({table.direction} is better) against throughput"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{LEFT}" y="{TOP}" width="{WIDTH - LEFT - RIGHT}" '
        f'height="{HEIGHT - TOP - BOTTOM}" class="frame"/>',
    ]
    for value in _log_ticks(x0, x1):
        x = px(value)
        out.append(
            f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{HEIGHT - BOTTOM}" class="grid"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" class="tick" '
            f'text-anchor="middle">{value:g}</text>'
        )
    for value in _linear_ticks(y0, y1):
        y = py(value)
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
        )
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{value:.4g}</text>'
        )
    out.append(
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2:.1f}" y="{HEIGHT - 6}" class="axis" '
        f'text-anchor="middle">throughput, items/s ({escape(table.cost_phase or "")}; log scale)</text>'
    )
    out.append(
        f'<text transform="translate(14 {(TOP + HEIGHT - BOTTOM) / 2:.1f}) rotate(-90)" '
        f'class="axis" text-anchor="middle">{escape(table.main_metric)}</text>'
    )
    ordered = sorted(front, key=lambda i: points[i][0])
    if len(ordered) > 1:
        path = " ".join(f"{px(points[i][0]):.1f},{py(points[i][1]):.1f}" for i in ordered)
        out.append(f'<polyline points="{path}" class="front"/>')
    for i, row in enumerate(rows):
        x, y = points[i]
        kind = "point on-front" if i in front else "point"
        label = f"{row.label}: {table.main_metric} {y:.4g}, {x:.4g} items/s"
        if i in front:
            label += " (Pareto front)"
        out.append(
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4.5" class="{kind}">'
            f"<title>{escape(label)}</title></circle>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _padded(low: float, high: float, pad: float) -> tuple[float, float]:
    if high - low < 1e-12:
        return low - pad, high + pad
    span = high - low
    return low - 0.08 * span, high + 0.08 * span


def _linear_ticks(low: float, high: float, count: int = 5) -> list[float]:
    step = 10 ** math.floor(math.log10((high - low) / count))
    for factor in (1, 2, 5, 10):
        if (high - low) / (step * factor) <= count:
            step *= factor
            break
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _log_ticks(low: float, high: float) -> list[float]:
    """Ticks between 10**low and 10**high: powers of ten, with 2 and 5 between them when
    the range spans less than two decades."""
    factors = (1,) if high - low >= 2 else (1, 2, 5)
    ticks = [
        factor * 10.0**exponent
        for exponent in range(math.floor(low), math.ceil(high) + 1)
        for factor in factors
    ]
    return [t for t in ticks if low <= math.log10(t) <= high]


@dataclass
class Figure:
    artifact: str
    row: Row
    seed: int
    plugin: str | None
    data_uri: str | None  # None: no installed plugin drew it


def plugin_figures(table: Table, registry, results, cache: dict) -> list[Figure]:
    """Ask plugins to draw each row's stored artifacts (of its lowest ok seed).

    `cache` maps (cell key, artifact) to what was drawn, so a figure shown on a task page and
    a suite page is drawn once.
    """
    task = registry.tasks.get(table.task)
    figures = []
    for row in table.rows:
        if task is None or not row.ok_cells:
            continue
        cell = row.ok_cells[0]
        for name in cell.artifact_names:
            if (cell.key, name) not in cache:
                plugin, svg = draw(registry, task, name, results.artifact(cell, name))
                uri = _data_uri(svg) if svg is not None else None
                cache[(cell.key, name)] = (plugin, uri)
            plugin, uri = cache[(cell.key, name)]
            figures.append(Figure(name, row, cell.seed, plugin, uri))
    return figures


@dataclass
class SuiteFigure:
    title: str
    plugin: str
    data_uri: str


def suite_figures(suite: str, tables: list[Table], registry) -> list[SuiteFigure]:
    """Figures across a suite's tasks, from plugins' `benchbed_suite_figures` hooks."""
    rows = [
        {
            "task": table.task,
            "model": row.model,
            "params": row.params,
            "device": row.device_label,
            "metric": table.main_metric,
            "mean": row.quality.interval.mean,
            "low": row.quality.interval.low,
            "high": row.quality.interval.high,
            "n": row.quality.interval.n,
        }
        for table in tables
        for row in table.rows
        if row.quality is not None
    ]
    figures = []
    for plugin, drawn in registry.call_each("benchbed_suite_figures", suite=suite, rows=rows):
        for title, svg in drawn or []:
            if isinstance(svg, str) and "<svg" in svg:
                figures.append(SuiteFigure(str(title), plugin, _data_uri(svg)))
            else:
                log.warning("plugin '%s' drew suite figure '%s' as non-SVG", plugin, title)
    return figures


def _data_uri(svg: str) -> str:
    """Plugin SVG goes in as an image, so any script inside it never runs."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def draw(registry, task, name: str, artifact: Any) -> tuple[str | None, str | None]:
    """(plugin, SVG) from the first plugin that draws this artifact; a plugin that raises is
    skipped by the registry, and one that returns something other than SVG text is ignored."""
    for plugin, svg in registry.call_each(
        "benchbed_figures", task=task, artifact_name=name, artifact=artifact
    ):
        if svg is None:
            continue
        if isinstance(svg, str) and "<svg" in svg:
            return plugin, svg
        log.warning(
            "plugin '%s' drew artifact '%s' as %s, not SVG text", plugin, name, type(svg).__name__
        )
    return None, None
