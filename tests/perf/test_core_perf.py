"""Performance gates of the core. Each compares two things measured in the same run, so the
gates hold on a noisy shared machine; pytest-benchmark records the absolute times too.

    pytest tests/perf                                   # run the gates
    pytest tests/perf --benchmark-autosave              # save a baseline under .benchmarks/
    pytest tests/perf --benchmark-compare --benchmark-compare-fail=median:50%
"""

import json
import sqlite3
import subprocess
import sys
import time

import pytest

from benchbed.cells import make_cell
from benchbed.execution import Outcome
from benchbed.plugins import load_registry
from benchbed.runner import run_cells
from benchbed.specs import Score
from benchbed.store import Store
from benchbed.timing import TimingRecord

CELLS = 200


def _best_of(fn, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def _outcome(i):
    samples = [float(j % 2) for j in range(100)]
    timing = TimingRecord(
        "inference", "cpu", "cpu", 1.0, 100, 100.0, 10, 1.0, 2.0, 3.0, 10, "float32"
    )
    return Outcome(
        "ok",
        "t0",
        "t1",
        1.0,
        "cpu",
        metrics={"toy_score": Score.mean_of(samples), "other": Score(0.5)},
        artifacts={"matrix": [[i, 1], [1, i]]},
        timings=[timing],
    )


def _raw_rows(cell, outcome, run_id):
    key = cell.key
    cell_row = (
        key,
        cell.task,
        cell.model,
        json.dumps(cell.params, sort_keys=True),
        cell.seed,
        cell.device,
        outcome.device_name,
        outcome.status,
        None,
        None,
        run_id,
        outcome.started_at,
        outcome.finished_at,
        outcome.duration_s,
        cell.versions["task"],
        cell.versions["model"],
        cell.tuned_from,
    )
    metric_rows = [
        (
            key,
            n,
            s.value,
            len(s.samples) if s.samples else None,
            s.unit,
            json.dumps(list(s.samples)) if s.samples else None,
        )
        for n, s in outcome.metrics.items()
    ]
    timing_rows = [(key, *t.as_row().values()) for t in outcome.timings]
    artifact_rows = [(key, n, json.dumps(c)) for n, c in outcome.artifacts.items()]
    return cell_row, metric_rows, timing_rows, artifact_rows


def test_store_writes_at_least_half_as_fast_as_raw_executemany(registry, tmp_path, benchmark):
    cells = [make_cell(registry, "toy/noisy", "uniform", {}, s, "cpu") for s in range(CELLS)]
    outcomes = [_outcome(i) for i in range(CELLS)]

    def store_write():
        store = Store(tmp_path / f"s{time.perf_counter_ns()}.db")
        run_id = store.start_run({}, None, "perf")
        for cell, outcome in zip(cells, outcomes):
            store.save_cell(run_id, cell, outcome)

    def raw_write():
        # the same rows, the same schema, one transaction per cell, plain sqlite3
        path = tmp_path / f"r{time.perf_counter_ns()}.db"
        Store(path).close()
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA synchronous=NORMAL")
        for cell, outcome in zip(cells, outcomes):
            cell_row, metric_rows, timing_rows, artifact_rows = _raw_rows(cell, outcome, "r")
            conn.execute("BEGIN IMMEDIATE")
            for table in ("metric_values", "timings", "artifacts"):
                conn.execute(f"DELETE FROM {table} WHERE cell_key = ?", [cell.key])
            conn.execute(
                f"INSERT OR REPLACE INTO cells VALUES ({','.join('?' * len(cell_row))})", cell_row
            )
            conn.executemany("INSERT INTO metric_values VALUES (?,?,?,?,?,?)", metric_rows)
            conn.executemany(f"INSERT INTO timings VALUES ({','.join('?' * 13)})", timing_rows)
            conn.executemany("INSERT INTO artifacts VALUES (?,?,?)", artifact_rows)
            conn.execute("COMMIT")
        conn.close()

    raw = _best_of(raw_write)
    ours = _best_of(store_write)
    benchmark.extra_info.update(raw_s=raw, store_s=ours, ratio=raw / ours)
    benchmark.pedantic(store_write, rounds=3)
    print(
        f"\nstore writes {CELLS} cells in {ours:.3f}s, raw sqlite3 {raw:.3f}s: {raw / ours:.2f}x of raw speed"
    )
    assert raw / ours >= 0.5


def test_runner_overhead_per_cell_on_a_task_that_does_nothing(registry, tmp_path, benchmark):
    cells = [make_cell(registry, "toy/count", "counter", {}, s, "cpu") for s in range(CELLS)]
    outcomes = [_outcome(i) for i in range(CELLS)]
    run_cells(
        registry, Store(tmp_path / "warm.db"), cells[:1], progress=False
    )  # imports torch once

    def full_run():
        run_cells(
            registry, Store(tmp_path / f"a{time.perf_counter_ns()}.db"), cells, progress=False
        )

    def storing_only():
        store = Store(tmp_path / f"b{time.perf_counter_ns()}.db")
        run_id = store.start_run({}, None, "perf")
        for cell, outcome in zip(cells, outcomes):
            store.save_cell(run_id, cell, outcome)

    floor = _best_of(storing_only, 3)
    ours = _best_of(full_run, 3)
    per_cell_ms = (ours - floor) / CELLS * 1000
    benchmark.extra_info.update(per_cell_overhead_ms=per_cell_ms)
    benchmark.pedantic(full_run, rounds=3)
    print(
        f"\nrunner: {ours / CELLS * 1000:.2f} ms per no-op cell, {per_cell_ms:.2f} ms beyond storing it"
    )
    # seeding, the context, building the model and bookkeeping cost less than storing the cell
    assert ours <= 2.5 * floor + 0.5


def test_plugin_discovery_is_a_small_part_of_cli_start_up(benchmark):
    discovery = _best_of(load_registry)
    benchmark.pedantic(load_registry, rounds=5)
    bare = _best_of(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), 3)
    cli = _best_of(
        lambda: subprocess.run(
            [sys.executable, "-m", "benchbed.cli", "list", "tasks"], check=True, capture_output=True
        ),
        3,
    )
    print(
        f"\ndiscovery {discovery * 1000:.0f} ms; `benchbed list tasks` {cli * 1000:.0f} ms, "
        f"bare python {bare * 1000:.0f} ms"
    )
    assert discovery < 0.5
    assert cli - bare < 0.5  # the target: listing feels instant


@pytest.fixture
def registry():
    import toy_plugin

    return load_registry(extra=[("toy", toy_plugin)], entry_point_plugins=False)
