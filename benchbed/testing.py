"""Helpers for plugins' own tests (pytest)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from benchbed.assets import MissingAsset

T = TypeVar("T")


def require_asset(load: Callable[[], T]) -> T:
    """`load()`, or skip the test with the install command when an offline asset is missing."""
    import pytest

    try:
        return load()
    except MissingAsset as exc:
        pytest.skip(str(exc))


REGISTRATION_HOOKS = ("benchbed_metrics", "benchbed_tasks", "benchbed_models", "benchbed_suites")


def heavy_imports(plugin_module: str, heavy: tuple[str, ...]) -> list[str]:
    """Which of `heavy` a fresh interpreter has imported after importing `plugin_module` and
    calling its registration hooks: what `benchbed list` pays for this plugin."""
    import subprocess
    import sys

    code = (
        f"import sys, importlib; p = importlib.import_module({plugin_module!r})\n"
        f"for hook in {REGISTRATION_HOOKS!r}:\n"
        "    getattr(p, hook, lambda: None)()\n"
        f"print(' '.join(m for m in {tuple(heavy)!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()
