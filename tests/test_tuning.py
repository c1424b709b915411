import json
import textwrap

import pytest
import toy_plugin

from benchbed import BenchbedError
from benchbed.runner import run_cells
from benchbed.store import Store
from benchbed.suites import load_suite
from benchbed.tuning import tune


def test_tuning_finds_the_optimum_on_validation_only(registry, tmp_path):
    toy_plugin.SPLITS_SEEN.clear()
    store = Store(tmp_path / "r.db")
    best = tune(registry, store, "toy/target", "guesser", trials=25, progress=False)
    assert best["study"] == "toy/target|guesser"
    assert best["params"]["x"] == pytest.approx(1.0, abs=0.25)
    assert set(toy_plugin.SPLITS_SEEN) == {"validation"}  # the test split was never seen
    stored = store.tuned("toy/target|guesser")
    assert stored["params"] == best["params"] and stored["trials"] == 25
    # optuna's study lives in the same file
    assert "trials" in store.db.table_names()


def test_a_study_is_resumed_only_when_asked(registry, tmp_path):
    store = Store(tmp_path / "r.db")
    tune(registry, store, "toy/target", "guesser", trials=4, progress=False)
    with pytest.raises(BenchbedError, match="already exists.*--resume"):
        tune(registry, store, "toy/target", "guesser", trials=4, progress=False)
    again = tune(registry, store, "toy/target", "guesser", trials=4, resume=True, progress=False)
    assert again["trials"] == 8
    with pytest.raises(BenchbedError, match="no study 'other'"):
        tune(
            registry, store, "toy/target", "guesser", 1, study="other", resume=True, progress=False
        )


def test_tasks_without_validation_split_or_models_without_space_are_refused(registry, tmp_path):
    store = Store(tmp_path / "r.db")
    with pytest.raises(BenchbedError, match="no validation split"):
        tune(registry, store, "toy/noisy", "uniform", trials=2, progress=False)
    with pytest.raises(BenchbedError, match="cannot solve"):
        tune(registry, store, "toy/target", "uniform", trials=2, progress=False)


def test_a_suite_runs_with_the_tuned_parameters_and_says_so(registry, tmp_path):
    store = Store(tmp_path / "r.db")
    suite_file = tmp_path / "s.toml"
    suite_file.write_text(
        textwrap.dedent(
            """
            [[grid]]
            tasks = ["toy/target"]
            models = ["guesser"]

            [grid.params]
            guesser = "tuned"
            """
        )
    )
    with pytest.raises(
        BenchbedError, match="line 7: no tuned parameters.*benchbed tune toy/target"
    ):
        load_suite(registry, suite_file, "cpu", tuned=store.tuned)
    best = tune(registry, store, "toy/target", "guesser", trials=10, progress=False)
    suite = load_suite(registry, suite_file, "cpu", tuned=store.tuned)
    assert suite.cells[0].params == best["params"]
    run_cells(registry, store, suite.cells, suite="s", progress=False)
    row = store.query("SELECT params, tuned_from FROM cells")[0]
    assert json.loads(row["params"]) == best["params"]
    assert row["tuned_from"] == "toy/target|guesser"


def test_pruning_stops_trials_that_are_clearly_worse(registry, tmp_path):
    import optuna

    store = Store(tmp_path / "r.db")
    tune(registry, store, "toy/target", "guesser", trials=30, progress=False)
    study = optuna.load_study(study_name="toy/target|guesser", storage=f"sqlite:///{store.path}")
    states = {t.state for t in study.trials}
    assert optuna.trial.TrialState.PRUNED in states
