"""Plain SVG line charts of the stored deferral and cost curves (no plotting library)."""

from __future__ import annotations

from html import escape

W, H, PAD = 420, 300, 48
COLOURS = {"rule": "#1f77b4", "oracle": "#2ca02c", "random": "#7f7f7f"}


def _chart(title: str, xlabel: str, ylabel: str, series: list[tuple[str, list, list, str]]) -> str:
    xs = [x for _, sx, _, _ in series for x in sx]
    ys = [y for _, _, sy, _ in series for y in sy]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys) if max(ys) > 0 else 1.0
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = y1 if y1 > y0 else y0 + 1

    def px(x):
        return PAD + (x - x0) / (x1 - x0) * (W - 1.5 * PAD)

    def py(y):
        return H - PAD - (y - y0) / (y1 - y0) * (H - 1.8 * PAD)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="{W / 2}" y="16" text-anchor="middle" font-size="12">{escape(title)}</text>',
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD / 2}" y2="{H - PAD}" stroke="black"/>',
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{PAD}" y2="{PAD * 0.8}" stroke="black"/>',
        f'<text x="{W / 2}" y="{H - 10}" text-anchor="middle">{escape(xlabel)}</text>',
        f'<text x="12" y="{H / 2}" text-anchor="middle" transform="rotate(-90 12 {H / 2})">{escape(ylabel)}</text>',
    ]
    for frac in (0, 0.5, 1):
        xv, yv = x0 + frac * (x1 - x0), y0 + frac * (y1 - y0)
        out.append(
            f'<text x="{px(xv):.1f}" y="{H - PAD + 14}" text-anchor="middle">{xv:.3g}</text>'
        )
        out.append(f'<text x="{PAD - 4}" y="{py(yv) + 4:.1f}" text-anchor="end">{yv:.2f}</text>')
    for i, (name, sx, sy, colour) in enumerate(series):
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(sx, sy, strict=True))
        dash = ' stroke-dasharray="5 4"' if name in ("random", "oracle") else ""
        out.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.8"{dash} points="{points}"/>'
        )
        out.append(
            f'<text x="{PAD + 8}" y="{PAD * 0.8 + 14 * (i + 1)}" fill="{colour}">{escape(name)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def deferral_curve_svg(task_name: str, artifact: dict) -> str:
    rate = artifact["rate"]
    return _chart(
        f"{task_name}: deferral curve (n={artifact.get('n_test', len(rate) - 1)})",
        "deferral rate",
        "quality",
        [
            ("rule", rate, artifact["quality"], COLOURS["rule"]),
            ("oracle", rate, artifact["oracle"], COLOURS["oracle"]),
            ("random", rate, artifact["random"], COLOURS["random"]),
        ],
    )


def cost_curve_svg(task_name: str, artifact: dict) -> str:
    return _chart(
        f"{task_name}: cost curve",
        "mean latency per question (ms)",
        "quality",
        [("rule", artifact["latency_ms"], artifact["quality"], COLOURS["rule"])],
    )
