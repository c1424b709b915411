"""Running one cell: seed, build the model, check its kind, evaluate, capture failure.

Whatever runs cells (this process, a pool, Dask workers) calls `execute_cell`; only the
driver in `benchbed.runner` writes the outcome to the store.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any

from benchbed.cells import Cell
from benchbed.context import Context, Pruned, seed_everything
from benchbed.errors import BenchbedError
from benchbed.plugins import Registry
from benchbed.specs import Score
from benchbed.store import now
from benchbed.timing import TimingRecord


@dataclass
class Outcome:
    status: str  # "ok" or "failed"
    started_at: str
    finished_at: str
    duration_s: float
    device_name: str | None = None
    metrics: dict[str, Score] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
    timings: list[TimingRecord] = field(default_factory=list)
    error: str | None = None
    traceback: str | None = None


def execute_cell(
    registry: Registry, cell: Cell, show_progress: bool = True, reporter=None
) -> Outcome:
    """Build the model, evaluate the task, and capture any failure as a failed outcome.

    `reporter(step, value) -> prune?` is the tuner's hook behind `ctx.report`; a pruned
    trial propagates as `Pruned` rather than becoming a failed cell.
    """
    started_at, start = now(), time.perf_counter()
    ctx = None
    try:
        task = registry.task(cell.task)
        spec = registry.model(cell.model)
        seed_everything(cell.seed)
        ctx = Context(
            seed=cell.seed,
            device=cell.device,
            split=cell.split,
            plugin=registry.owners[("task", cell.task)],
            show_progress=show_progress,
            reporter=reporter,
        )
        model = spec.factory(**cell.params)
        missing = task.kind.missing(model)
        if missing:
            raise BenchbedError(
                f"model '{cell.model}' built a {type(model).__name__} without "
                f"{', '.join(missing)}, which kind '{task.kind.name}' requires"
            )
        result = task.evaluate(model, ctx)
        undeclared = set(result.metrics) - set(task.metrics)
        if undeclared:
            raise BenchbedError(
                f"task '{cell.task}' returned metric(s) it does not declare: "
                f"{', '.join(sorted(undeclared))}"
            )
        status, error, tb = "ok", None, None
        metrics, artifacts = result.metrics, result.artifacts
    except Pruned:
        raise
    except Exception as exc:  # one cell's failure must not stop the suite
        status, error, tb = "failed", f"{type(exc).__name__}: {exc}", traceback.format_exc()
        metrics, artifacts = {}, {}
    return Outcome(
        status=status,
        started_at=started_at,
        finished_at=now(),
        duration_s=time.perf_counter() - start,
        device_name=ctx.timer.device_name if ctx else None,
        metrics=metrics,
        artifacts=artifacts,
        timings=ctx.timer.records if ctx else [],
        error=error,
        traceback=tb,
    )


def failed_outcome(error: str) -> Outcome:
    """An outcome for a cell that never ran to completion (e.g. its worker died)."""
    stamp = now()
    return Outcome("failed", stamp, stamp, 0.0, error=error)
