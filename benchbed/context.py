"""What a task gets besides the model: the cell's seed, device, timer, cache and logger."""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from benchbed.timing import Timer

T = TypeVar("T")


class Pruned(Exception):
    """Raised by `Context.report` when the tuner stops an unpromising trial early."""


def cache_root() -> Path:
    """Where plugins keep prepared data and trained weights: $BENCHBED_CACHE or ~/.cache/benchbed."""
    return Path(os.environ.get("BENCHBED_CACHE") or Path.home() / ".cache" / "benchbed")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and (when it is installed) torch from one number."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)


@dataclass
class Context:
    seed: int = 0
    device: str = "cpu"
    split: str = "test"  # "validation" while tuning, never the test split
    plugin: str = "benchbed"
    show_progress: bool = True
    timer: Timer = field(default=None)  # type: ignore[assignment]
    reporter: Callable[[int, float], bool] | None = None  # the tuner's pruner, while tuning

    def __post_init__(self) -> None:
        if self.timer is None:
            self.timer = Timer(self.device)

    @property
    def log(self) -> logging.Logger:
        return logging.getLogger(f"benchbed.{self.plugin}")

    @property
    def cache_dir(self) -> Path:
        path = cache_root() / self.plugin
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        """Hold the cache lock `name` (a file lock, so across processes on this machine).

        Wrap the computing of something cached in the cache folder in it, and look for the
        cached result again once inside: cells running side by side then compute it once, the
        others waiting for it and reading it.
        """
        import fcntl

        with open(self.cache_dir / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def report(self, step: int, value: float) -> None:
        """Report an intermediate value of the main metric (e.g. after each epoch).

        Outside tuning this does nothing; while tuning it lets the pruner stop a trial that
        is doing worse than earlier ones at the same step (raises `Pruned`).
        """
        if self.reporter is not None and self.reporter(step, value):
            raise Pruned(f"pruned at step {step} (value {value:.4g})")

    def rng(self, stream: int = 0):
        """A NumPy Generator derived from the cell's seed; `stream` separates independent uses."""
        import numpy as np

        return np.random.default_rng([self.seed, stream])

    def progress(self, items: Iterable[T], desc: str = "", total: int | None = None) -> Iterator[T]:
        """A nested progress bar for long loops inside a cell (silent in worker processes)."""
        from tqdm.auto import tqdm

        yield from tqdm(items, desc=desc, total=total, leave=False, disable=not self.show_progress)
