"""SVG figures for the leaderboard: the distribution of per-episode accuracy of one cell."""

from __future__ import annotations

from html import escape


def histogram_svg(counts: list[int], title: str = "", width: int = 360, height: int = 160) -> str:
    """Bars of episode counts over accuracy bins spanning 0..100%."""
    pad_left, pad_bottom, pad_top = 36, 24, 18
    plot_w, plot_h = width - pad_left - 8, height - pad_bottom - pad_top
    top = max(max(counts), 1)
    bar = plot_w / len(counts)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">',
        f'<text x="{pad_left}" y="12">{escape(title)}: episodes by accuracy</text>',
    ]
    for i, c in enumerate(counts):
        h = plot_h * c / top
        x = pad_left + i * bar
        y = pad_top + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" fill="#4c78a8">'
            f"<title>{100 * i / len(counts):.0f}-{100 * (i + 1) / len(counts):.0f}%: {c}</title></rect>"
        )
    base = pad_top + plot_h
    parts.append(
        f'<line x1="{pad_left}" y1="{base}" x2="{pad_left + plot_w}" y2="{base}" stroke="#333"/>'
    )
    for pct in (0, 50, 100):
        x = pad_left + plot_w * pct / 100
        parts.append(f'<text x="{x:.1f}" y="{base + 14}" text-anchor="middle">{pct}%</text>')
    parts.append(f'<text x="{pad_left - 4}" y="{pad_top + 8}" text-anchor="end">{top}</text>')
    parts.append("</svg>")
    return "".join(parts)


TASK_NAME = r"^fewshot/(?P<benchmark>[^/]+)/(?P<ways>\d+)way-(?P<shots>\d+)shot$"
COLOURS = (
    "#4c78a8",
    "#f58518",
    "#54a24b",
    "#e45756",
    "#72b7b2",
    "#b279a2",
    "#9d755d",
    "#bab0ac",
    "#eeca3b",
    "#ff9da6",
)


def accuracy_by_shots(rows: list[dict]) -> dict[tuple[str, int], dict[str, list[tuple]]]:
    """Leaderboard rows of few-shot tasks grouped as (benchmark, ways) -> series label ->
    [(shots, mean, low, high)], sorted by shots; other tasks' rows are ignored."""
    import re

    rows = [(m, row) for row in rows if (m := re.match(TASK_NAME, row["task"]))]
    variants: dict[str, set] = {}  # model -> its parameter sets; devices, all of them
    for _, row in rows:
        variants.setdefault(row["model"], set()).add(repr(sorted(row["params"].items())))
    several_devices = len({row["device"] for _, row in rows}) > 1
    groups: dict[tuple[str, int], dict[str, list[tuple]]] = {}
    for match, row in rows:
        # a label says only what tells the lines apart
        label = row["model"]
        if len(variants[row["model"]]) > 1:
            label += "(" + ",".join(f"{k}={v}" for k, v in sorted(row["params"].items())) + ")"
        if several_devices:
            label += f" {row['device']}"
        key = (match["benchmark"], int(match["ways"]))
        point = (int(match["shots"]), row["mean"], row["low"], row["high"])
        groups.setdefault(key, {}).setdefault(label, []).append(point)
    for series in groups.values():
        for points in series.values():
            points.sort()
    return groups


def shots_svg(
    title: str, series: dict[str, list[tuple]], width: int = 480, height: int = 260
) -> str:
    """Accuracy (%) against shots, one line per method, with the 95% interval as error bars."""
    import math

    pad_left, pad_right, pad_top, pad_bottom = 44, 170, 22, 30
    plot_w, plot_h = width - pad_left - pad_right, height - pad_top - pad_bottom
    shots = sorted({p[0] for points in series.values() for p in points})
    values = [v for points in series.values() for p in points for v in p[1:] if not math.isnan(v)]
    low, high = min(values), max(values)
    low, high = (low - 0.05, high + 0.05) if high - low < 1e-9 else (low, high)

    def px(k: int) -> float:
        return pad_left + (
            plot_w * shots.index(k) / (len(shots) - 1) if len(shots) > 1 else plot_w / 2
        )

    def py(v: float) -> float:
        return pad_top + plot_h * (high - v) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10">',
        f'<text x="{pad_left}" y="13">{escape(title)}: accuracy against shots</text>',
        f'<line x1="{pad_left}" y1="{pad_top + plot_h}" x2="{pad_left + plot_w}" '
        f'y2="{pad_top + plot_h}" stroke="#333"/>',
        f'<line x1="{pad_left}" y1="{pad_top}" x2="{pad_left}" y2="{pad_top + plot_h}" stroke="#333"/>',
    ]
    for k in shots:
        parts.append(
            f'<text x="{px(k):.1f}" y="{pad_top + plot_h + 14}" text-anchor="middle">{k}-shot</text>'
        )
    for v in (low, (low + high) / 2, high):
        parts.append(
            f'<text x="{pad_left - 4}" y="{py(v) + 3:.1f}" text-anchor="end">{100 * v:.1f}</text>'
        )
    for i, (label, points) in enumerate(sorted(series.items())):
        colour = COLOURS[i % len(COLOURS)]
        path = " ".join(f"{px(k):.1f},{py(m):.1f}" for k, m, _, _ in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"/>'
        )
        for k, m, lo, hi in points:
            if not math.isnan(lo):
                parts.append(
                    f'<line x1="{px(k):.1f}" y1="{py(lo):.1f}" x2="{px(k):.1f}" y2="{py(hi):.1f}" stroke="{colour}"/>'
                )
            parts.append(
                f'<circle cx="{px(k):.1f}" cy="{py(m):.1f}" r="2.5" fill="{colour}">'
                f"<title>{escape(label)}, {k}-shot: {100 * m:.2f}%</title></circle>"
            )
        y = pad_top + 12 * i + 6
        parts.append(
            f'<rect x="{width - pad_right + 8}" y="{y - 7}" width="8" height="8" fill="{colour}"/>'
        )
        parts.append(f'<text x="{width - pad_right + 20}" y="{y}">{escape(label[:28])}</text>')
    parts.append("</svg>")
    return "".join(parts)
