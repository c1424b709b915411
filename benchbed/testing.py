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
