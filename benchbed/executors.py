"""Executors turn cells into outcomes; they never touch the store.

A new engine (Ray, a batch system) implements `Executor.outcomes` and nothing else changes:
tasks and plugins run the same way everywhere, through `execute_cell`.

    serial    this process, one cell after another (the default)
    process   a local pool of spawned processes
    dask      Dask workers: a LocalCluster, or the scheduler at --scheduler tcp://HOST:8786
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Protocol

from benchbed.cells import Cell
from benchbed.errors import BenchbedError
from benchbed.execution import Outcome, execute_cell, failed_outcome
from benchbed.hardware import limit_threads
from benchbed.plugins import Registry, load_registry

EXECUTORS = ("serial", "process", "dask")


class Executor(Protocol):
    # The most cells run side by side on one machine (None: not known, e.g. a Dask cluster).
    cells_at_once: int | None

    def outcomes(self, registry: Registry, cells: Sequence[Cell]) -> Iterator[tuple[Cell, Outcome]]:
        """Run `cells` and yield each with its outcome as it finishes, in any order."""


def make_executor(
    name: str,
    workers: int | None = None,
    scheduler: str | None = None,
    on_start: Callable[[Cell], None] | None = None,
    threads: int | None = None,
    progress: bool = True,
) -> Executor:
    """`threads`: CPU threads per cell (default: all cores, shared out among local workers).
    `progress`: whether a serial run's tasks draw their own progress bars (pool workers never
    do: their bars would interleave)."""
    if name == "serial":
        return SerialExecutor(on_start, threads, progress)
    if name == "process":
        return ProcessExecutor(workers, threads)
    if name == "dask":
        return DaskExecutor(workers, scheduler, threads)
    raise BenchbedError(f"unknown executor '{name}'; choose one of {', '.join(EXECUTORS)}")


class SerialExecutor:
    def __init__(
        self,
        on_start: Callable[[Cell], None] | None = None,
        threads: int | None = None,
        progress: bool = True,
    ):
        self.on_start, self.threads, self.progress = on_start, threads, progress
        self.cells_at_once = 1

    def outcomes(self, registry: Registry, cells: Sequence[Cell]) -> Iterator[tuple[Cell, Outcome]]:
        if self.threads:
            limit_threads(self.threads)
        for cell in cells:
            if self.on_start:
                self.on_start(cell)
            yield cell, execute_cell(registry, cell, show_progress=self.progress)


# -- worker side, shared by the process pool and Dask ------------------------------------------

_worker_registry: Registry | None = None


def _worker_registry_for(extra_modules: list[tuple[str, str]], threads: int | None) -> Registry:
    """Load the plugins once per worker process."""
    global _worker_registry
    if _worker_registry is None:
        if threads:  # several workers each using every core only slows all of them down
            limit_threads(threads)
        extra = [(name, importlib.import_module(module)) for name, module in extra_modules]
        _worker_registry = load_registry(extra=extra)
    return _worker_registry


def _init_worker(extra_modules: list[tuple[str, str]], threads: int) -> None:
    _worker_registry_for(extra_modules, threads)


def _execute_in_worker(cell: Cell, extra_modules=(), threads: int | None = None) -> Outcome:
    registry = _worker_registry_for(list(extra_modules), threads)
    return execute_cell(registry, cell, show_progress=False)


class ProcessExecutor:
    """A local process pool; each worker loads the plugins itself (spawned, not forked)."""

    def __init__(self, workers: int | None = None, threads: int | None = None):
        self.workers = workers or max(1, (os.cpu_count() or 2) // 2)
        self.threads = threads or max(1, (os.cpu_count() or 1) // self.workers)
        self.cells_at_once = self.workers

    def outcomes(self, registry: Registry, cells: Sequence[Cell]) -> Iterator[tuple[Cell, Outcome]]:
        import multiprocessing

        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(registry.extra_modules, self.threads),
        )
        try:
            pending = {pool.submit(_execute_in_worker, cell): cell for cell in cells}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    cell = pending.pop(future)
                    try:
                        outcome = future.result()
                    except Exception as exc:  # the worker itself died (e.g. out of memory)
                        outcome = failed_outcome(f"worker process failed: {exc!r}")
                    yield cell, outcome
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


class DaskExecutor:
    """Cells as Dask tasks. Workers need benchbed and the same plugins installed.

    A cell whose worker dies is retried once on another worker, then stored as failed
    (the scheduler's `allowed-failures`, set here for a LocalCluster; set it in the
    scheduler's config for a cluster of your own).
    """

    def __init__(
        self, workers: int | None = None, scheduler: str | None = None, threads: int | None = None
    ):
        self.workers = workers or max(1, (os.cpu_count() or 2) // 2)
        self.scheduler, self.threads = scheduler, threads
        # A LocalCluster's workers share this machine; a cluster's spread over its machines.
        self.cells_at_once = None if scheduler else self.workers

    def outcomes(self, registry: Registry, cells: Sequence[Cell]) -> Iterator[tuple[Cell, Outcome]]:
        try:
            import dask
            from distributed import Client, LocalCluster, as_completed
        except ImportError:
            raise BenchbedError(
                "--executor dask needs Dask: pip install 'dask[distributed]'"
            ) from None
        with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
            if self.scheduler:
                cluster, client = None, Client(self.scheduler)
            else:
                cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
                client = Client(cluster)
        try:
            # a cluster of your own knows its cores; a LocalCluster shares out this machine's
            threads = self.threads or (
                max(1, (os.cpu_count() or 1) // self.workers) if cluster else None
            )
            futures = {
                client.submit(
                    _execute_in_worker,
                    cell,
                    tuple(registry.extra_modules),
                    threads,
                    key=f"benchbed-cell-{cell.key}",
                    pure=False,
                ): cell
                for cell in cells
            }
            for future in as_completed(futures):
                cell = futures[future]
                try:
                    outcome = future.result()
                except Exception as exc:  # KilledWorker after the retry, or a lost connection
                    outcome = failed_outcome(f"dask worker failed: {type(exc).__name__}: {exc}")
                yield cell, outcome
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
