"""The accuracy matrix as an inline SVG heat map (plain string building, no plotting library)."""

from __future__ import annotations

from html import escape


def _colour(value: float) -> str:
    """White (0) to dark blue (1)."""
    v = min(1.0, max(0.0, float(value)))
    r, g, b = (round(255 - v * (255 - c)) for c in (8, 48, 107))
    return f"#{r:02x}{g:02x}{b:02x}"


def accuracy_matrix_svg(R, title: str = "", cell: int = 44) -> str:
    """Rows: after training context i; columns: tested on context j; colour and label: accuracy."""
    n = len(R)
    left, top = 70, 46 if title else 30
    # About 7 px per character of the 12 px title, so a long task name is not clipped.
    width = max(left + n * cell + 10, 20 + 7 * len(title))
    height = top + n * cell + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" role="img">',
        f"<title>{escape(title or 'accuracy matrix')}</title>",
    ]
    if title:
        parts.append(
            f'<text x="10" y="16" font-size="12" font-weight="bold">{escape(title)}</text>'
        )
    for j in range(n):
        x = left + j * cell + cell / 2
        parts.append(f'<text x="{x}" y="{top - 6}" text-anchor="middle">{j + 1}</text>')
    for i, row in enumerate(R):
        y = top + i * cell
        parts.append(
            f'<text x="{left - 6}" y="{y + cell / 2 + 4}" text-anchor="end">after {i + 1}</text>'
        )
        for j, value in enumerate(row):
            x = left + j * cell
            ink = "#fff" if float(value) > 0.6 else "#000"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{_colour(value)}" stroke="#fff"/>'
                f'<text x="{x + cell / 2}" y="{y + cell / 2 + 4}" text-anchor="middle" fill="{ink}">'
                f"{100 * float(value):.0f}</text>"
            )
    parts.append(
        f'<text x="{left + n * cell / 2}" y="{top + n * cell + 18}" text-anchor="middle">'
        "tested on context (accuracy %)</text>"
    )
    parts.append("</svg>")
    return "".join(parts)
