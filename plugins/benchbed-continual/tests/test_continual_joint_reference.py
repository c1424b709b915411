"""The joint reference computed ahead of the cells is the one a cell computes and reads."""

import json
import sqlite3

import pytest
from benchbed_continual import joint_reference

from benchbed.errors import BenchbedError

TASK = "continual/split-digits/domain-il"


def cached(cache):
    return {p.name: p.read_text() for p in (cache / "continual").glob("joint-reference-*.json")}


def test_filled_reference_is_the_cells_own(tmp_path, monkeypatch):
    from benchbed.cli import main

    # A cell computes the reference into one cache, the module into another: same key, same values.
    monkeypatch.setenv("BENCHBED_CACHE", str(tmp_path / "cell"))
    args = ["run", TASK, "--seed", "3", "--device", "cpu", "--no-progress"]
    assert main([*args, "--model", "ewc", "--db", str(tmp_path / "a.db")]) == 0
    monkeypatch.setenv("BENCHBED_CACHE", str(tmp_path / "ahead"))
    reference = joint_reference.fill(TASK, "cpu", 3)
    by_cell, ahead = cached(tmp_path / "cell"), cached(tmp_path / "ahead")
    assert len(by_cell) == 1 and by_cell == ahead
    assert len(reference) == 5 and all(0.5 < a <= 1 for a in reference)
    # A cell run after it reads it rather than computing its own: against a reference of all
    # ones, intransigence is 1 - the mean of R's diagonal.
    (path,) = (tmp_path / "ahead" / "continual").glob("joint-reference-*.json")
    path.write_text("[1.0, 1.0, 1.0, 1.0, 1.0]")
    db = tmp_path / "b.db"
    assert main([*args, "--model", "naive", "--db", str(db)]) == 0
    with sqlite3.connect(db) as conn:
        (value,) = conn.execute(
            "SELECT value FROM metric_values WHERE metric = 'intransigence'"
        ).fetchone()
        (content,) = conn.execute("SELECT content FROM artifacts").fetchone()
    R = json.loads(content)["R"]
    assert value == pytest.approx(1 - sum(R[j][j] for j in range(5)) / 5, abs=1e-3)  # R is rounded


def test_unknown_and_non_continual_tasks_are_refused(capsys):
    with pytest.raises(BenchbedError, match="did you mean 'continual/split-digits/domain-il'"):
        joint_reference.fill("continual/split-digit/domain-il", "cpu", 0)
    assert joint_reference.main(["continual/digits-mosaic-multilabel/class-il"]) == 2
    assert "not a continual task" in capsys.readouterr().err
    with pytest.raises(BenchbedError, match="unknown device 'gpu'"):
        joint_reference.fill(TASK, "gpu", 0)
