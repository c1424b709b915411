"""Building the leaderboard of 10,000 cells takes a few seconds.

    pytest tests/perf/test_leaderboard_perf.py --benchmark-only

The store: 20 tasks x 50 models x 2 parameter values x 5 seeds, all in one suite (so each row
is rendered on its task page and on the suite page), each cell with two metrics (the main
one with 100 per-item samples) and an inference timing.
"""

import json

import pytest

import benchbed
from benchbed import HIGHER, Kind, Metric, ModelSpec, Task
from benchbed.leaderboard import build_site
from benchbed.plugins import load_registry
from benchbed.store import Store

TASKS, MODELS, PARAMS, SEEDS = 20, 50, 2, 5
CELLS = TASKS * MODELS * PARAMS * SEEDS
LIMIT_S = 10.0  # "a few seconds" here, with room for a shared, busy machine


class Grid(Task):
    kind = Kind("grid", "anything")
    metrics = ("score", "cost_units")

    def __init__(self, i):
        self.name = f"perf/task-{i:02d}"


class GridPlugin:
    @benchbed.hookimpl
    def benchbed_metrics(self):
        return [Metric("score", HIGHER), Metric("cost_units", benchbed.LOWER)]

    @benchbed.hookimpl
    def benchbed_tasks(self):
        return [Grid(i) for i in range(TASKS)]

    @benchbed.hookimpl
    def benchbed_models(self):
        return [
            ModelSpec(f"model-{m:02d}", ("grid",), dict, defaults={"width": 1})
            for m in range(MODELS)
        ]


@pytest.fixture(scope="module")
def big_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("perf") / "big.db"
    store = Store(path)
    cells, metrics, timings, suite = [], [], [], []
    for t in range(TASKS):
        for m in range(MODELS):
            for p in range(PARAMS):
                for seed in range(SEEDS):
                    key = f"{t}-{m}-{p}-{seed}"
                    skill = 0.5 + 0.004 * m + 0.01 * p
                    samples = [float((seed * 7 + i) % 100 < skill * 100) for i in range(100)]
                    cells.append({
                        "cell_key": key, "task": f"perf/task-{t:02d}", "model": f"model-{m:02d}",
                        "params": json.dumps({"width": p + 1}), "seed": seed, "device": "cpu",
                        "device_name": "Perf CPU", "status": "ok", "run_id": f"run-{seed}",
                        "finished_at": f"2026-01-01T00:00:0{seed}+00:00", "duration_s": 1.0,
                        "task_plugin": "grid@1", "model_plugin": "grid@1",
                    })  # fmt: skip
                    metrics.append({
                        "cell_key": key, "metric": "score", "value": sum(samples) / 100, "n": 100,
                        "sample_unit": "item", "samples": json.dumps(samples),
                    })  # fmt: skip
                    metrics.append({"cell_key": key, "metric": "cost_units", "value": m + p})
                    timings.append({
                        "cell_key": key, "phase": "inference", "device": "cpu",
                        "device_name": "Perf CPU", "seconds": 1.0, "items": 100,
                        "throughput": 1000.0 / (m + 1), "steps": 10, "latency_p50_ms": m + 1.0,
                        "latency_p90_ms": m + 2.0, "latency_p99_ms": m + 3.0,
                    })  # fmt: skip
                    suite.append({"suite": "everything", "cell_key": key})
    with store.db.conn:
        store.db["cells"].insert_all(cells)
        store.db["metric_values"].insert_all(metrics)
        store.db["timings"].insert_all(timings)
        store.db["suite_cells"].insert_all(suite)
        store.db["runs"].insert_all(
            {"run_id": f"run-{s}", "benchbed_version": "0.1.0", "cpu": "Perf CPU"}
            for s in range(SEEDS)
        )
    store.close()
    return path


def test_build_10000_cells(benchmark, big_store, tmp_path):
    registry = load_registry(extra=[("grid", GridPlugin())], entry_point_plugins=False)
    out = tmp_path / "site"
    index = benchmark.pedantic(
        build_site, args=([big_store], out), kwargs={"registry": registry}, rounds=2, iterations=1
    )
    assert index.is_file()
    assert len(list(out.glob("task-*.html"))) == TASKS
    suite_page = next(out.glob("suite-*.html")).read_text()
    assert suite_page.count("<tr class=") == TASKS * MODELS * PARAMS
    assert benchmark.stats["mean"] < LIMIT_S, f"{CELLS} cells took {benchmark.stats['mean']:.1f} s"
