"""The driver: resume, progress, run events, and storing every outcome as it arrives."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

from benchbed.cells import Cell
from benchbed.executors import make_executor
from benchbed.plugins import Registry
from benchbed.provenance import provenance
from benchbed.store import Store


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
    scheduler: str | None = None,
    command: str = "",
    progress: bool = True,
    threads: int | None = None,
) -> Summary:
    """Run what is not stored yet (everything with `rerun`) and store each outcome.

    `threads` caps the CPU threads each cell's numeric libraries use (see `make_executor`).
    """
    from tqdm.auto import tqdm

    engine = make_executor(
        executor,
        workers,
        scheduler,
        on_start=lambda c: bar.set_description(c.label),
        threads=threads,
        progress=progress,
    )
    summary = Summary(total=len(cells))
    if suite:
        store.add_to_suite(suite, [c.key for c in cells])
    done = set() if rerun else store.completed_keys(c.key for c in cells)
    todo = [c for c in cells if c.key not in done]
    summary.skipped = len(cells) - len(todo)
    if not todo:
        return summary
    device = todo[0].device
    at_once = engine.cells_at_once and min(engine.cells_at_once, len(todo))
    run_id = store.start_run(
        {**provenance(registry, device), "cells_at_once": at_once}, suite, command
    )
    summary.run_id = run_id
    registry.notify("benchbed_run_started", run_id=run_id, suite=suite, cells=todo)
    bar = tqdm(total=len(todo), unit="cell", disable=not progress, file=sys.stderr)
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
