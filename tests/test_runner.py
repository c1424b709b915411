import json

import pytest

from benchbed.cells import make_cell
from benchbed.runner import run_cells
from benchbed.store import Store


def cells(registry, model="uniform", seeds=(0, 1, 2), **params):
    return [make_cell(registry, "toy/noisy", model, params, s, "cpu") for s in seeds]


def stored_values(store):
    return {
        (r["cell_key"]): r["value"]
        for r in store.query("SELECT cell_key, value FROM metric_values")
    }


def test_a_run_stores_metrics_samples_timings_and_artifacts(registry, tmp_path):
    store = Store(tmp_path / "r.db")
    summary = run_cells(registry, store, cells(registry, seeds=[0]), suite="s", progress=False)
    assert (summary.ok, summary.failed, summary.exit_status) == (1, [], 0)
    row = store.query("SELECT * FROM metric_values")[0]
    samples = json.loads(row["samples"])
    assert row["n"] == len(samples) == 50
    assert row["value"] == pytest.approx(sum(samples) / 50)
    timing = store.query("SELECT * FROM timings")[0]
    assert (timing["phase"], timing["items"], timing["steps"]) == ("inference", 50, 5)
    assert timing["device_name"]
    assert json.loads(store.query("SELECT content FROM artifacts")[0]["content"]) == samples[:3]
    run = store.query("SELECT * FROM runs")[0]
    assert run["status"] == "ok" and run["python_version"] and "toy" in run["plugin_versions"]
    assert store.query("SELECT suite FROM suite_cells") == [{"suite": "s"}]


def test_same_seed_same_numbers_other_seed_other_numbers(registry, tmp_path):
    first, second = Store(tmp_path / "a.db"), Store(tmp_path / "b.db")
    run_cells(registry, first, cells(registry), progress=False)
    run_cells(registry, second, cells(registry), progress=False)
    a, b = stored_values(first), stored_values(second)
    assert a == b
    assert len(set(a.values())) == 3


def test_resume_skips_stored_cells_and_rerun_forces_them(registry, tmp_path):
    store = Store(tmp_path / "r.db")
    run_cells(registry, store, cells(registry, seeds=[0]), progress=False)
    summary = run_cells(registry, store, cells(registry, seeds=[0, 1]), progress=False)
    assert (summary.skipped, summary.ok) == (1, 1)
    summary = run_cells(registry, store, cells(registry, seeds=[0, 1]), rerun=True, progress=False)
    assert (summary.skipped, summary.ok) == (0, 2)
    assert store.query("SELECT count(*) AS n FROM cells")[0]["n"] == 2
    assert store.query("SELECT count(*) AS n FROM metric_values")[0]["n"] == 2


def test_a_failing_cell_is_stored_with_its_traceback_and_the_rest_runs(registry, tmp_path):
    store = Store(tmp_path / "r.db")
    todo = cells(registry, model="failing", seeds=[0]) + cells(registry, seeds=[0])
    summary = run_cells(registry, store, todo, progress=False)
    assert summary.ok == 1 and len(summary.failed) == 1 and summary.exit_status == 1
    failed = store.query("SELECT * FROM cells WHERE status = 'failed'")[0]
    assert failed["error"] == "RuntimeError: this model always fails"
    assert "toy_plugin.py" in failed["traceback"]
    # a failed cell is tried again on the next run
    assert run_cells(registry, store, todo, progress=False).skipped == 1


def test_a_model_missing_its_kinds_methods_fails_with_a_clear_message(registry, tmp_path):
    from benchbed.specs import ModelSpec

    registry.models["hollow"] = ModelSpec("hollow", ("toy-scorer",), object)
    registry.owners[("model", "hollow")] = "toy"
    store = Store(tmp_path / "r.db")
    summary = run_cells(registry, store, cells(registry, model="hollow", seeds=[0]), progress=False)
    assert "built a object without score, which kind 'toy-scorer' requires" in summary.failed[0][1]


def test_the_process_pool_gives_the_serial_numbers(registry, tmp_path):
    serial, pooled = Store(tmp_path / "a.db"), Store(tmp_path / "b.db")
    run_cells(registry, serial, cells(registry), progress=False)
    summary = run_cells(
        registry, pooled, cells(registry), executor="process", workers=2, progress=False
    )
    assert summary.ok == 3
    assert stored_values(serial) == stored_values(pooled)


@pytest.mark.parametrize(
    ("executor", "workers", "n_cells", "at_once"),
    [("serial", None, 3, 1), ("process", 2, 3, 2), ("process", 4, 3, 3)],
)
def test_a_run_records_how_many_cells_shared_the_machine(
    registry, tmp_path, executor, workers, n_cells, at_once
):
    store = Store(tmp_path / "r.db")
    todo = cells(registry, seeds=range(n_cells))
    run_cells(registry, store, todo, executor=executor, workers=workers, progress=False)
    assert store.query("SELECT cells_at_once FROM runs") == [{"cells_at_once": at_once}]


def test_run_events_reach_reporters(registry, tmp_path):
    events = []

    class Reporter:
        def benchbed_run_started(self, run_id, suite, cells):
            events.append(("started", suite, len(cells)))

        def benchbed_cell_finished(self, run_id, cell, outcome):
            events.append(("cell", outcome.status))

        def benchbed_run_finished(self, run_id, summary):
            events.append(("finished", summary["ok"], summary["failed"]))

    from benchbed import hookimpl

    reporter = Reporter()
    for name in ("benchbed_run_started", "benchbed_cell_finished", "benchbed_run_finished"):
        hookimpl(getattr(Reporter, name))
    registry.manager.register(reporter, name="reporter")
    todo = cells(registry, seeds=[0]) + cells(registry, model="failing", seeds=[0])
    run_cells(registry, Store(tmp_path / "r.db"), todo, suite="s", progress=False)
    assert events == [("started", "s", 2), ("cell", "ok"), ("cell", "failed"), ("finished", 1, 1)]


def stored_conditions(store, name):
    return [
        json.loads(r["content"])
        for r in store.query("SELECT content FROM artifacts WHERE name = ?", [name])
    ]


def stored_thread_limits(store):
    return stored_conditions(store, "threads")


@pytest.mark.parametrize("executor", ["serial", "process"])
def test_threads_caps_what_each_cell_may_use(registry, tmp_path, monkeypatch, executor):
    from benchbed.hardware import THREAD_VARIABLES

    for var in THREAD_VARIABLES:  # limit_threads sets them for this process
        monkeypatch.delenv(var, raising=False)
    store = Store(tmp_path / "r.db")
    todo = [make_cell(registry, "toy/threads", "uniform", {}, s, "cpu") for s in (0, 1)]
    run_cells(registry, store, todo, executor=executor, workers=2, threads=1, progress=False)
    assert stored_thread_limits(store) == ["1", "1"]


def test_without_threads_pool_workers_share_out_the_cores(registry, tmp_path):
    import os

    store = Store(tmp_path / "r.db")
    todo = [make_cell(registry, "toy/threads", "uniform", {}, 0, "cpu")]
    run_cells(registry, store, todo, executor="process", workers=2, progress=False)
    assert stored_thread_limits(store) == [str(max(1, (os.cpu_count() or 1) // 2))]


@pytest.mark.parametrize("progress", [True, False])
def test_a_serial_run_without_progress_tells_its_tasks(registry, tmp_path, progress):
    store = Store(tmp_path / "r.db")
    todo = [make_cell(registry, "toy/threads", "uniform", {}, 0, "cpu")]
    run_cells(registry, store, todo, progress=progress)
    assert stored_conditions(store, "progress") == [progress]


def test_a_thread_limit_below_one_is_refused():
    from benchbed.errors import BenchbedError
    from benchbed.hardware import limit_threads

    with pytest.raises(BenchbedError, match="at least 1"):
        limit_threads(0)
