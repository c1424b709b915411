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
