"""Where a number came from: versions, commit, host and hardware, recorded with every run."""

from __future__ import annotations

import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version

from benchbed import __version__
from benchbed.hardware import cpu_name, device_name
from benchbed.plugins import Registry


def provenance(registry: Registry, device: str) -> dict:
    return {
        "benchbed_version": __version__,
        "plugin_versions": {
            p.name: f"{p.distribution} {p.version}"
            for p in registry.plugins.values()
            if not p.broken
        },
        "git_commit": git_commit(),
        "python_version": platform.python_version(),
        "torch_version": _installed("torch"),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "gpu": device_name(device) if device.startswith("cuda") else None,
    }


def git_commit() -> str | None:
    """The commit of the working directory's checkout, '+dirty' when it has changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}+dirty" if dirty else head


def _installed(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None
