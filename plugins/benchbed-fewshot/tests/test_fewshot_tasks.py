"""The tasks end to end: the issue's correctness anchor on digits, errors, the CLI."""

import sqlite3

import numpy as np
import pytest
from benchbed_fewshot.benchmarks import BENCHMARKS
from benchbed_fewshot.methods.nearest_centroid import NearestCentroid
from benchbed_fewshot.tasks import FewShotTask

from benchbed import BenchbedError

DIGITS = next(b for b in BENCHMARKS if b.name == "digits")


@pytest.mark.parametrize(
    "shots, transform, published",
    [(1, "UN", 0.739), (1, "CL2N", 0.751), (5, "UN", 0.896)],
)
def test_digits_anchor_within_the_confidence_interval(ctx, shots, transform, published):
    """The issue's numbers: 10,000 episodes, nearest centroid on raw digits pixels."""
    result = FewShotTask(DIGITS, 5, shots).evaluate(NearestCentroid(transform), ctx)
    ci = result.artifacts["accuracy_ci95"]
    assert len(result.metrics["accuracy"].samples) == 10_000
    assert ci["half_width"] == pytest.approx(
        1.96 * np.std(result.metrics["accuracy"].samples, ddof=1) / 100, rel=1e-4
    )  # z = 1.95996
    assert ci["low"] <= published <= ci["high"], (ci, published)


def test_same_seed_same_numbers_other_seed_other_episodes(ctx):
    task = FewShotTask(DIGITS, 5, 1, episodes=200)
    a = task.evaluate(NearestCentroid("UN"), ctx).metrics["accuracy"].samples
    b = task.evaluate(NearestCentroid("UN"), ctx).metrics["accuracy"].samples
    ctx.seed = 1
    c = task.evaluate(NearestCentroid("UN"), ctx).metrics["accuracy"].samples
    assert a == b and a != c


class Broken:
    def __init__(self, shape=None, value=0):
        self.shape, self.value = shape, value

    def predict(self, batch):
        import torch

        return torch.full(self.shape or (batch.episodes, batch.query.shape[1]), self.value)


def test_a_method_that_answers_wrongly_gets_a_clear_error(ctx):
    task = FewShotTask(DIGITS, 5, 1, episodes=50)
    with pytest.raises(BenchbedError, match="shape"):
        task.evaluate(Broken(shape=(50, 3)), ctx)
    with pytest.raises(BenchbedError, match="outside 0..4"):
        task.evaluate(Broken(value=7), ctx)
    ctx.split = "validation"
    with pytest.raises(BenchbedError, match="no 'validation' split"):
        task.evaluate(Broken(), ctx)


def test_quick_suite_through_the_cli(tmp_path, monkeypatch, capsys):
    from benchbed.cli import main

    monkeypatch.setenv("BENCHBED_CACHE", str(tmp_path / "cache"))
    db = tmp_path / "r.db"
    assert (
        main(["run", "suite", "fewshot-quick", "--db", str(db), "--no-progress", "--device", "cpu"])
        == 0
    )
    rows = (
        sqlite3.connect(db)
        .execute("select task, model, value from cell_metrics where metric = 'accuracy'")
        .fetchall()
    )
    acc = {(task.split("/")[-1], model): value for task, model, value in rows}
    assert len(acc) == 18
    one = {m: v for (t, m), v in acc.items() if t == "5way-1shot"}
    for method in ("kmeans", "laplacianshot", "tim-gd", "tim-adm", "bd-cspn"):
        assert one[method] > one["simpleshot"], (method, one)
    assert all(v > 0.85 for (t, m), v in acc.items() if t == "5way-5shot")
    # a bad parameter is a user error (exit 2), not a failed cell
    assert (
        main(
            [
                "run",
                "fewshot/digits-quick/5way-1shot",
                "--model",
                "knn",
                "--param",
                "kk=3",
                "--db",
                str(db),
            ]
        )
        == 2
    )
    assert "did you mean 'k'" in capsys.readouterr().err


def test_histogram_figure_for_the_leaderboard(ctx):
    from benchbed_fewshot.plugin import benchbed_figures

    task = FewShotTask(DIGITS, 5, 1, episodes=100)
    result = task.evaluate(NearestCentroid("UN"), ctx)
    histogram = result.artifacts["episode_accuracy_histogram"]
    assert sum(histogram["counts"]) == 100
    svg = benchbed_figures(
        task=task, artifact_name="episode_accuracy_histogram", artifact=histogram
    )
    assert svg.startswith("<svg") and svg.count("<rect") == 20
    assert benchbed_figures(task=task, artifact_name="accuracy_ci95", artifact={}) is None


def test_accuracy_against_shots_is_drawn_per_benchmark_with_more_than_one_shot_count():
    import math

    from benchbed_fewshot import plugin
    from benchbed_fewshot.figures import accuracy_by_shots

    def row(task, model, mean, low=math.nan, high=math.nan):
        return {"task": task, "model": model, "params": {}, "device": "CPU: x", "metric": "accuracy",
                "mean": mean, "low": low, "high": high, "n": 3}  # fmt: skip

    rows = [
        row("fewshot/digits/5way-5shot", "protonet", 0.89, 0.88, 0.90),
        row("fewshot/digits/5way-1shot", "protonet", 0.74, 0.73, 0.75),
        row("fewshot/digits/5way-1shot", "tim-adm", 0.85),
        row("fewshot/wordnet/5way-1shot", "protonet", 0.60),  # one shot count: no figure
        row("continual/split-mnist/class-il", "naive", 0.2),  # not a few-shot task
    ]
    groups = accuracy_by_shots(rows)
    assert set(groups) == {("digits", 5), ("wordnet", 5)}
    assert groups[("digits", 5)]["protonet"] == [(1, 0.74, 0.73, 0.75), (5, 0.89, 0.88, 0.90)]
    figures = plugin.benchbed_suite_figures(suite="fewshot", rows=rows)
    assert [title for title, _ in figures] == ["digits, 5-way: accuracy against shots"]
    svg = figures[0][1]
    assert svg.startswith("<svg") and svg.count("<polyline") == 2 and "1-shot" in svg and "5-shot" in svg
