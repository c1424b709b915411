"""Rendering pages from the templates, and the number formats the pages use.

Templates and assets live in this package (templates/, static/) so that an installed wheel
finds them exactly as a source checkout does. Jinja's autoescaping is on for every
template: every name, parameter and error from a plugin or suite file is escaped, and
only SVG that plots.py built from escaped text is marked safe.
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import jinja2

from benchbed.leaderboard.table import ALPHA, MIN_PAIRS_FOR_ALPHA, TEST_NAME, Quality

HERE = Path(__file__).parent
STATIC = HERE / "static"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(ci=format_quality, num=format_number, sortkey=sort_key, when=format_time)
    env.globals.update(alpha=ALPHA, min_pairs=MIN_PAIRS_FOR_ALPHA, test_name=TEST_NAME)
    return env


def render(env: jinja2.Environment, template: str, path: Path, **context) -> None:
    path.write_text(env.get_template(template).render(**context), encoding="utf-8")


def copy_static(out: Path) -> None:
    for asset in STATIC.iterdir():
        if asset.is_file():
            shutil.copyfile(asset, out / asset.name)


def format_quality(quality: Quality | None) -> str:
    """'0.912 ± 0.012': the half-width to two significant digits, the mean to match."""
    if quality is None:
        return ""
    interval = quality.interval
    if not quality.has_ci:
        return format_number(interval.mean)
    half = interval.half_width
    decimals = 4 if half <= 0 else min(8, max(0, 1 - math.floor(math.log10(half))))
    return f"{interval.mean:.{decimals}f} ± {half:.{decimals}f}"


def format_number(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, int):
        return str(value)
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-3):
        return f"{value:.3g}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def sort_key(value: float | None) -> str:
    """What sort.js compares: a full-precision number, or empty for 'no value' (sorted last)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return repr(float(value))


def format_time(stamp: str | None) -> str:
    """'2026-01-01T12:00:00+00:00' (how the store keeps time) as '2026-01-01 12:00:00 UTC'."""
    if not stamp:
        return ""
    return stamp.replace("T", " ").replace("+00:00", " UTC")
