import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time


def test_plugins_lists_versions_and_names_the_broken_ones(cli):
    out = cli("plugins", check=0).stdout
    assert re.search(r"toy\s+toy-plugin\s+1\.2\.3\s+ok\s+5 tasks, 5 models, 1 metrics", out)
    assert "broken-plugin" in out and "BROKEN" in out
    assert "ModuleNotFoundError: No module named 'benchbed_dependency_that_is_not_installed'" in out
    assert "raising-plugin" in out and "the data file is corrupt" in out
    # what works still works
    assert "toy/noisy" in cli("list", "tasks", check=0).stdout


def test_strict_makes_a_broken_plugin_an_error(cli):
    proc = cli("--strict", "list", "tasks", check=2)
    assert "plugin 'broken' (broken-plugin) is broken" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_list_shows_kinds_and_descriptions(cli):
    assert re.search(
        r"toy-counter\s+count\s+count\(n\) -> int", cli("list", "kinds", check=0).stdout
    )
    models = cli("list", "models", check=0).stdout
    assert "uniform" in models and "toy-scorer" in models and "uniform scores" in models
    assert re.search(r"toy_score\s+higher is better", cli("list", "metrics", check=0).stdout)
    proc = cli("list", "task", check=2)
    assert "unknown listing 'task' (did you mean 'tasks'?)" in proc.stderr


def test_unknown_names_exit_2_with_the_near_match(cli):
    proc = cli("run", "toy/noisey", "--model", "uniform", check=2)
    assert "unknown task 'toy/noisey' (did you mean 'toy/noisy'?)" in proc.stderr
    proc = cli("run", "toy/noisy", "--model", "unifrom", check=2)
    assert "did you mean 'uniform'?" in proc.stderr
    proc = cli("run", "suite", "nonexistent-suite", check=2)
    assert "unknown suite 'nonexistent-suite'" in proc.stderr
    proc = cli("run", "toy/noisy", "--model", "uniform", "--param", "lowe=1", check=2)
    assert "has no parameter 'lowe' (did you mean 'low'?)" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_model_of_another_kind_is_refused_before_anything_runs(cli):
    proc = cli("run", "toy/count", "--model", "uniform", check=2)
    assert "model 'uniform' cannot solve task 'toy/count'" in proc.stderr
    assert "Models for this task: counter" in proc.stderr
    assert not os.path.exists(cli.env["BENCHBED_DB"])


def test_a_malformed_suite_file_names_file_and_line(cli):
    suites = cli.cwd / "suites"
    suites.mkdir()
    (suites / "mine.toml").write_text(
        '[[grid]]\ntasks = ["toy/noisy"]\nmodels = ["uniform", "counter"]\n'
    )
    proc = cli("run", "suite", "mine", check=2)
    assert "mine.toml, line 3: model 'counter' cannot solve task 'toy/noisy'" in proc.stderr


def test_single_cell_run_prints_its_metrics_and_results_export(cli, tmp_path):
    proc = cli(
        "run", "toy/noisy", "--model", "uniform", "--param", "low=0.5", "--seed", "3", check=0
    )
    assert "toy_score" in proc.stdout
    assert "done: 1 ran, 0 failed, 0 already stored" in proc.stderr
    cli("results", "--format", "json", "--output", str(tmp_path / "r.json"), check=0)
    rows = json.loads((tmp_path / "r.json").read_text())
    assert rows[0]["task"] == "toy/noisy" and rows[0]["seed"] == 3 and rows[0]["value"] >= 0.5
    csv_text = cli("results", "--format", "csv", check=0).stdout
    assert csv_text.startswith("task,model,params,seed")


def test_a_failing_cell_gives_exit_1_and_a_summary(cli):
    proc = cli("run", "toy/noisy", "--model", "failing", check=1)
    assert (
        "FAILED toy/noisy | failing | seed 0: RuntimeError: this model always fails" in proc.stderr
    )
    assert "RuntimeError" in cli("results", "--failed", check=0).stdout


def test_listing_imports_no_heavy_library(cli):
    code = textwrap.dedent(
        """
        import sys
        from benchbed.cli import main
        for what in ("tasks", "models", "metrics", "suites"):
            main(["list", what])
        main(["plugins"])
        heavy = [m for m in ("torch", "transformers", "mteb", "sklearn", "sqlite_utils") if m in sys.modules]
        assert not heavy, heavy
        """
    )
    subprocess.run([sys.executable, "-c", code], env=cli.env, check=True, capture_output=True)


def _start_slow_suite(cli, cells: int) -> subprocess.Popen:
    """`benchbed run suite slow` in the background: `cells` cells of 0.4 s each."""
    (cli.cwd / "suites").mkdir()
    (cli.cwd / "suites" / "slow.toml").write_text(
        f"seeds = {list(range(cells))}\n"
        '[[grid]]\ntasks = ["toy/sleepy"]\nmodels = ["uniform"]\n'
        "[grid.params.uniform]\ndelay = 0.4\n"
    )
    return subprocess.Popen(
        [sys.executable, "-m", "benchbed.cli", "run", "suite", "slow", "--no-progress"],
        cwd=cli.cwd,
        env=cli.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell's background job ignores SIGINT, and Python then never raises
        # KeyboardInterrupt; give the child a terminal's default whoever started pytest
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _stored_cells(db) -> dict[str, str]:
    """cell key -> finished_at of the cells in the store (empty while it is being created)."""
    if not os.path.exists(db):
        return {}
    with sqlite3.connect(db) as conn:
        try:
            return dict(conn.execute("SELECT cell_key, finished_at FROM cells").fetchall())
        except sqlite3.OperationalError:
            return {}


def _wait_for_cells(db, count: int) -> None:
    deadline = time.time() + 60
    while len(_stored_cells(db)) < count and time.time() < deadline:
        time.sleep(0.05)


def test_a_suite_killed_with_sigkill_resumes_without_loss_or_duplicates(cli):
    db = cli.env["BENCHBED_DB"]
    proc = _start_slow_suite(cli, cells=8)
    _wait_for_cells(db, 3)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    before = _stored_cells(db)
    assert 3 <= len(before) < 8

    resumed = cli("run", "suite", "slow", "--no-progress", check=0)
    assert f"{len(before)} already stored" in resumed.stderr
    after = _stored_cells(db)
    assert len(after) == 8
    assert all(after[key] == stamp for key, stamp in before.items())  # kept as they were
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM metric_values").fetchone()[0] == 8
        assert conn.execute("SELECT count(*) FROM suite_cells").fetchone()[0] == 8


def test_ctrl_c_stops_cleanly_and_keeps_what_finished(cli):
    db = cli.env["BENCHBED_DB"]
    proc = _start_slow_suite(cli, cells=6)
    _wait_for_cells(db, 2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "run the same command to resume" in err and "Traceback" not in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM runs").fetchone()[0] == "interrupted"
        kept = conn.execute("SELECT count(*) FROM cells WHERE status = 'ok'").fetchone()[0]
    assert 2 <= kept < 6
    assert f"{kept} already stored" in cli("run", "suite", "slow", "--no-progress", check=0).stderr


def test_tune_through_the_cli(cli):
    out = cli("tune", "toy/target", "--model", "guesser", "--trials", "6", check=0).stdout
    assert "study toy/target|guesser: best toy_score" in out and "after 6 trials" in out
    proc = cli("tune", "toy/noisy", "--model", "uniform", "--trials", "2", check=2)
    assert "no validation split" in proc.stderr
