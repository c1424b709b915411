from pathlib import Path

import pytest

from benchbed.cells import make_cell
from benchbed.runner import run_cells
from benchbed.store import Store

PLUGINS = Path(__file__).parent / "plugins"  # the test plugins

pytest.importorskip("distributed", reason="the Dask executor needs dask[distributed]")


def test_a_local_dask_cluster_gives_the_serial_results(registry, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(PLUGINS))  # workers import the toy plugin
    cells = [
        make_cell(registry, "toy/noisy", m, {}, s, "cpu")
        for m in ("uniform", "failing")
        for s in (0, 1, 2)
    ]
    serial, dask = Store(tmp_path / "a.db"), Store(tmp_path / "b.db")
    run_cells(registry, serial, cells, progress=False)
    summary = run_cells(registry, dask, cells, executor="dask", workers=2, progress=False)
    assert (summary.ok, len(summary.failed)) == (3, 3)

    def rows(store):
        return sorted(
            (r["cell_key"], r["status"], r["value"], r["error"])
            for r in store.query(
                "SELECT c.cell_key, c.status, m.value, c.error FROM cells c "
                "LEFT JOIN metric_values m USING (cell_key)"
            )
        )

    assert rows(serial) == rows(dask)


def test_a_cell_whose_worker_dies_is_retried_once_then_stored_as_failed(
    registry, tmp_path, monkeypatch
):
    monkeypatch.setenv("PYTHONPATH", str(PLUGINS))
    attempts = tmp_path / "attempts"
    cells = [
        make_cell(registry, "toy/noisy", "dying", {"attempts_file": str(attempts)}, 0, "cpu"),
        make_cell(registry, "toy/noisy", "uniform", {}, 0, "cpu"),
    ]
    store = Store(tmp_path / "r.db")
    summary = run_cells(registry, store, cells, executor="dask", workers=2, progress=False)
    assert summary.ok == 1
    assert "KilledWorker" in summary.failed[0][1]
    assert attempts.read_text().count("attempt") == 2
    assert store.query("SELECT status FROM cells WHERE model = 'dying'") == [{"status": "failed"}]
