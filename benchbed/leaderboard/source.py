"""Reading one or more results stores into one in-memory picture of cells and runs.

Several files merge (a CPU store and a GPU store from another machine): cells are keyed by
their content hash, so the same cell in two files is kept once (the later one). Per-item
samples and artifacts stay in the database until a page needs them, which keeps a build of
thousands of cells fast.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchbed.errors import BenchbedError
from benchbed.store import Store, decode_samples, default_path

WHAT_TO_RUN = (
    "run some cells first, e.g. `benchbed run suite NAME` or `benchbed run TASK --model M`"
)


@dataclass
class MetricValue:
    value: float | None
    n: int | None
    unit: str | None
    stored_samples: str | bytes | None  # as in the store: JSON, or compressed JSON

    def samples(self) -> list[float] | None:
        return decode_samples(self.stored_samples)


@dataclass
class CellRecord:
    key: str
    task: str
    model: str
    params: dict[str, Any]
    params_json: str
    seed: int
    device: str
    device_name: str
    status: str
    error: str | None
    run_id: str
    finished_at: str
    duration_s: float | None
    task_plugin: str
    model_plugin: str
    source: int  # index into Results.sources
    tuned_from: str | None = None  # the optuna study its parameters came from
    cells_at_once: int | None = None  # its run's cells side by side on one machine
    metrics: dict[str, MetricValue] = field(default_factory=dict)
    timings: dict[str, dict] = field(default_factory=dict)  # phase -> timings row
    artifact_names: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def error_line(self) -> str:
        lines = (self.error or "").strip().splitlines()
        return lines[0] if lines else "failed without an error message"


@dataclass
class Results:
    sources: list[Path]
    cells: list[CellRecord]
    runs: dict[str, dict]  # run_id -> runs row (plugin_versions parsed), plus "source"
    suites: dict[str, set[str]]  # suite -> cell keys
    _stores: list[Store] = field(default_factory=list, repr=False)

    def artifact(self, cell: CellRecord, name: str) -> Any:
        rows = self._stores[cell.source].query(
            "SELECT content FROM artifacts WHERE cell_key = ? AND name = ?", [cell.key, name]
        )
        return json.loads(rows[0]["content"]) if rows else None

    def close(self) -> None:
        for store in self._stores:
            store.close()


def load(dbs: Sequence[str | Path] | None) -> Results:
    paths = [Path(p) for p in dbs] if dbs else [default_path()]
    for path in paths:
        if not path.is_file():
            raise BenchbedError(f"no results store at {path}; {WHAT_TO_RUN} (or pass --db FILE)")
    results = Results(sources=paths, cells=[], runs={}, suites={})
    by_key: dict[str, CellRecord] = {}
    try:
        for index, path in enumerate(paths):
            store = Store.reader(path)
            results._stores.append(store)
            for cell in _read_cells(store, index):
                kept = by_key.get(cell.key)
                if kept is None or cell.finished_at > kept.finished_at:
                    by_key[cell.key] = cell
            for run in store.query("SELECT * FROM runs"):
                run["plugin_versions"] = json.loads(run["plugin_versions"] or "{}")
                run["source"] = str(path)
                results.runs[run["run_id"]] = run
            for row in store.query("SELECT suite, cell_key FROM suite_cells"):
                results.suites.setdefault(row["suite"], set()).add(row["cell_key"])
    except BaseException:
        results.close()
        raise
    if not by_key:
        results.close()
        names = ", ".join(str(p) for p in paths)
        raise BenchbedError(f"{names} holds no results yet; {WHAT_TO_RUN}")
    for cell in by_key.values():
        cell.cells_at_once = results.runs.get(cell.run_id, {}).get("cells_at_once")
    results.cells = sorted(by_key.values(), key=lambda c: (c.task, c.model, c.params_json, c.seed))
    # A suite lists cells it planned; only those that were stored can be shown.
    for keys in results.suites.values():
        keys.intersection_update(by_key)
    return results


def _read_cells(store: Store, source: int) -> list[CellRecord]:
    cells: dict[str, CellRecord] = {}
    for row in store.query(
        "SELECT cell_key, task, model, params, seed, device, device_name, status, error, "
        "run_id, finished_at, duration_s, task_plugin, model_plugin, tuned_from FROM cells"
    ):
        cells[row["cell_key"]] = CellRecord(
            key=row["cell_key"],
            task=row["task"],
            model=row["model"],
            params=json.loads(row["params"] or "{}"),
            params_json=row["params"] or "{}",
            seed=row["seed"],
            device=row["device"] or "cpu",
            device_name=row["device_name"] or "",
            status=row["status"],
            error=row["error"],
            run_id=row["run_id"],
            finished_at=row["finished_at"] or "",
            duration_s=row["duration_s"],
            task_plugin=row["task_plugin"] or "",
            model_plugin=row["model_plugin"] or "",
            source=source,
            tuned_from=row["tuned_from"],
        )
    for row in store.query(
        "SELECT cell_key, metric, value, n, sample_unit, samples FROM metric_values"
    ):
        cell = cells.get(row["cell_key"])
        if cell is not None:
            cell.metrics[row["metric"]] = MetricValue(
                row["value"], row["n"], row["sample_unit"], row["samples"]
            )
    for row in store.query("SELECT * FROM timings"):
        cell = cells.get(row["cell_key"])
        if cell is not None:
            cell.timings[row["phase"]] = row
            if not cell.device_name and row["device_name"]:
                cell.device_name = row["device_name"]
    for row in store.query("SELECT cell_key, name FROM artifacts ORDER BY name"):
        cell = cells.get(row["cell_key"])
        if cell is not None:
            cell.artifact_names.append(row["name"])
    return list(cells.values())
