"""benchbed: a plugin-based benchmarking suite for ML research methods.

The public API for plugin authors is what this module exports; everything else is internal.
"""

import pluggy

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("benchbed")

from benchbed.context import Context, cache_root, seed_everything  # noqa: E402
from benchbed.errors import BenchbedError  # noqa: E402
from benchbed.specs import HIGHER, LOWER, Kind, Metric, ModelSpec, Result, Score, Task  # noqa: E402

__all__ = [
    "HIGHER",
    "LOWER",
    "BenchbedError",
    "Context",
    "Kind",
    "Metric",
    "ModelSpec",
    "Result",
    "Score",
    "Task",
    "__version__",
    "cache_root",
    "hookimpl",
    "seed_everything",
]
