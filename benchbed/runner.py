"""Runs cells: seeding, resume, isolation of failures, and the executor seam.

The driver alone writes the store; executors only turn cells into outcomes. A new
executor (Dask, Ray, a cluster) implements `Executor.outcomes` and nothing else changes.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from benchbed.cells import Cell
from benchbed.context import Context, seed_everything
from benchbed.errors import BenchbedError
from benchbed.plugins import Registry, load_registry
from benchbed.provenance import provenance
from benchbed.specs import Score
from benchbed.store import Store, now
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


def execute_cell(registry: Registry, cell: Cell, show_progress: bool = True) -> Outcome:
    """Build the model, evaluate the task, and capture any failure as a failed outcome."""
    started_at, start = now(), time.perf_counter()
    ctx = None
    try:
        task = registry.task(cell.task)
        spec = registry.model(cell.model)
        seed_everything(cell.seed)
        ctx = Context(
            seed=cell.seed,
            device=cell.device,
            plugin=registry.owners[("task", cell.task)],
            show_progress=show_progress,
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


# -- executors -----------------------------------------------------------------------------


class Executor(Protocol):
    def outcomes(self, registry: Registry, cells: Sequence[Cell]) -> Iterator[tuple[Cell, Outcome]]:
        """Run `cells` and yield each with its outcome as it finishes, in any order."""


class SerialExecutor:
    def __init__(self, on_start=None):
        self.on_start = on_start

    def outcomes(self, registry: Registry, cells: Sequence[Cell]) -> Iterator[tuple[Cell, Outcome]]:
        for cell in cells:
            if self.on_start:
                self.on_start(cell)
            yield cell, execute_cell(registry, cell)


_worker_registry: Registry | None = None


def _init_worker(extra_modules: list[tuple[str, str]], threads: int) -> None:
    global _worker_registry
    # Several workers each using every core only slows all of them down.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    import importlib

    extra = [(name, importlib.import_module(module)) for name, module in extra_modules]
    _worker_registry = load_registry(extra=extra)


def _execute_in_worker(cell: Cell) -> Outcome:
    assert _worker_registry is not None
    return execute_cell(_worker_registry, cell, show_progress=False)


class ProcessExecutor:
    """A local process pool; each worker loads the plugins itself (spawned, not forked)."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or max(1, (os.cpu_count() or 2) // 2)

    def outcomes(self, registry: Registry, cells: Sequence[Cell]) -> Iterator[tuple[Cell, Outcome]]:
        import multiprocessing

        threads = max(1, (os.cpu_count() or 1) // self.workers)
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(registry.extra_modules, threads),
        )
        try:
            pending = {pool.submit(_execute_in_worker, cell): cell for cell in cells}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    cell = pending.pop(future)
                    try:
                        yield cell, future.result()
                    except Exception as exc:  # the worker itself died (e.g. out of memory)
                        stamp = now()
                        yield (
                            cell,
                            Outcome(
                                "failed", stamp, stamp, 0.0, error=f"worker process failed: {exc!r}"
                            ),
                        )
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


EXECUTORS = {"serial": SerialExecutor, "process": ProcessExecutor}


# -- the driver ----------------------------------------------------------------------------


@dataclass
class Summary:
    total: int = 0
    skipped: int = 0  # already stored from an earlier run
    ok: int = 0
    failed: list[tuple[Cell, str]] = field(default_factory=list)
    interrupted: bool = False
    run_id: str | None = None

    @property
    def exit_status(self) -> int:
        if self.interrupted:
            return 130
        return 1 if self.failed else 0

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "skipped": self.skipped,
            "ok": self.ok,
            "failed": len(self.failed),
            "interrupted": self.interrupted,
        }


def run_cells(
    registry: Registry,
    store: Store,
    cells: Sequence[Cell],
    suite: str | None = None,
    rerun: bool = False,
    executor: str = "serial",
    workers: int | None = None,
    command: str = "",
    progress: bool = True,
) -> Summary:
    """Run what is not stored yet (everything with `rerun`) and store each outcome."""
    from tqdm.auto import tqdm

    summary = Summary(total=len(cells))
    if suite:
        store.add_to_suite(suite, [c.key for c in cells])
    done = set() if rerun else store.completed_keys(c.key for c in cells)
    todo = [c for c in cells if c.key not in done]
    summary.skipped = len(cells) - len(todo)
    if not todo:
        return summary
    device = todo[0].device
    run_id = store.start_run(provenance(registry, device), suite, command)
    summary.run_id = run_id
    registry.notify("benchbed_run_started", run_id=run_id, suite=suite, cells=todo)
    bar = tqdm(total=len(todo), unit="cell", disable=not progress, file=sys.stderr)
    if executor == "serial":
        engine: Executor = SerialExecutor(on_start=lambda c: bar.set_description(c.label))
    elif executor == "process":
        engine = ProcessExecutor(workers)
    else:
        raise BenchbedError(f"unknown executor '{executor}'; choose one of {', '.join(EXECUTORS)}")
    try:
        for cell, outcome in engine.outcomes(registry, todo):
            store.save_cell(run_id, cell, outcome)
            if outcome.status == "ok":
                summary.ok += 1
            else:
                summary.failed.append((cell, outcome.error or "unknown error"))
            registry.notify("benchbed_cell_finished", run_id=run_id, cell=cell, outcome=outcome)
            bar.update(1)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        bar.close()
        status = "interrupted" if summary.interrupted else "failed" if summary.failed else "ok"
        store.finish_run(run_id, status)
        registry.notify("benchbed_run_finished", run_id=run_id, summary=summary.as_dict())
    return summary
