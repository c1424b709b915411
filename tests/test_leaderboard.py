"""The leaderboard's numbers and pages, from stores written through benchbed.store.Store."""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import sys
import zipfile
from itertools import count
from pathlib import Path
from types import SimpleNamespace

import pytest

import benchbed
from benchbed import HIGHER, LOWER, BenchbedError, Kind, Metric, ModelSpec, Task
from benchbed.cells import make_cell
from benchbed.cli import main
from benchbed.leaderboard import build_site, slug
from benchbed.leaderboard.pages import format_quality
from benchbed.leaderboard.plots import pareto_front
from benchbed.leaderboard.source import load
from benchbed.leaderboard.table import build_table
from benchbed.plugins import load_registry
from benchbed.specs import Score
from benchbed.stats import bootstrap_ci
from benchbed.store import Store
from benchbed.timing import TimingRecord

T_975_DF2 = 4.302652729911275  # Student's t, 97.5th percentile, 2 degrees of freedom
EVIL = "<script>alert('x')</script>"
KIND = Kind("toy", "anything", methods=())


class ToyTask(Task):
    kind = KIND

    def __init__(self, name, metrics=("accuracy", "loss"), main_metric=""):
        self.name, self.metrics, self.main_metric = name, metrics, main_metric


class Toy:
    """Tasks, models and a figure hook for the tests; nothing here is ever evaluated."""

    def __init__(self, tasks=(), models=("alpha", "beta", "gamma"), metrics=()):
        self.tasks = list(tasks) or [ToyTask("toy/acc"), ToyTask("toy/loss", main_metric="loss")]
        self.models = models
        self.metrics = [Metric("loss", LOWER), *metrics]

    @benchbed.hookimpl
    def benchbed_metrics(self):
        return self.metrics

    @benchbed.hookimpl
    def benchbed_tasks(self):
        return self.tasks

    @benchbed.hookimpl
    def benchbed_models(self):
        return [
            ModelSpec(m, ("toy",), dict, defaults={"size": 1, "label": ""}) for m in self.models
        ]

    @benchbed.hookimpl
    def benchbed_figures(self, task, artifact_name, artifact):
        if artifact_name == "curve":
            return f'<svg xmlns="http://www.w3.org/2000/svg"><text>{artifact["n"]}</text><script>alert(1)</script></svg>'
        if artifact_name == "broken":
            raise ValueError("cannot draw this")
        if artifact_name == "weird":
            return 42
        return None


def registry_for(plugin=None):
    return load_registry(extra=[("toy", plugin or Toy())], entry_point_plugins=False)


_clock = count()


def put(store, registry, task, model, seed, metrics=None, *, params=None, error=None,
        device="cpu", device_name="Test CPU", throughput=None, artifacts=None, suite=None,
        tuned_from=None, cells_at_once=None):  # fmt: skip
    """Store one cell the way the runner does; `metrics` maps a name to a value or samples."""
    cell = make_cell(registry, task, model, params or {}, seed, device, tuned_from=tuned_from)
    stamp = f"2026-01-01T00:00:{next(_clock):02d}+00:00"
    timings = []
    if throughput is not None:
        timings.append(
            TimingRecord("inference", device, device_name, 1.0, 100, throughput, 10,
                         1000 / throughput, 1000 / throughput, 1000 / throughput, None, None)
        )  # fmt: skip
    outcome = SimpleNamespace(
        status="failed" if error else "ok", started_at=stamp, finished_at=stamp, duration_s=1.0,
        device_name=device_name, error=error, traceback=error,
        metrics={
            name: Score.mean_of(v) if isinstance(v, list) else Score(v)
            for name, v in (metrics or {}).items()
        },
        timings=timings, artifacts=artifacts or {},
    )  # fmt: skip
    run_id = store.start_run(
        {"benchbed_version": "0.1.0", "git_commit": "abc123", "cpu": "Test CPU",
         "cells_at_once": cells_at_once}, suite, "test",
    )  # fmt: skip
    store.save_cell(run_id, cell, outcome)
    store.finish_run(run_id, outcome.status)
    if suite:
        store.add_to_suite(suite, [cell.key])
    return cell


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "results.db")
    yield s
    s.close()


def table_of(store, registry, task):
    results = load([store.path])
    try:
        return build_table(task, [c for c in results.cells if c.task == task], registry)
    finally:
        results.close()


def html_of(out: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(out.glob("*.html")))


# -- intervals ---------------------------------------------------------------------------


def test_interval_over_seeds_is_students_t(store, tmp_path):
    registry = registry_for()
    for seed, value in enumerate([0.8, 0.9, 1.0]):
        put(store, registry, "toy/acc", "alpha", seed, {"accuracy": value})
    (row,) = table_of(store, registry, "toy/acc").rows
    half = T_975_DF2 * 0.1 / math.sqrt(3)  # sd of 0.8, 0.9, 1.0 is 0.1
    assert row.quality.unit == "seed" and row.quality.interval.n == 3
    assert row.quality.interval.mean == pytest.approx(0.9, abs=1e-12)
    assert row.quality.interval.low == pytest.approx(0.9 - half, abs=1e-9)
    assert row.quality.interval.high == pytest.approx(0.9 + half, abs=1e-9)
    build_site([store.path], tmp_path / "site", registry=registry)
    page = html_of(tmp_path / "site")
    assert "0.90 ± 0.25" in page and "3 seeds" in page


def test_interval_of_one_seed_bootstraps_its_items(store):
    registry = registry_for()
    samples = [1.0, 0.0] * 50
    put(store, registry, "toy/acc", "alpha", 0, {"accuracy": samples})
    (row,) = table_of(store, registry, "toy/acc").rows
    assert row.quality.unit == "item" and row.quality.interval.n == 100
    assert row.quality.interval == bootstrap_ci(samples)
    # Normal approximation by hand: 1.96 * sqrt(0.25 / 100) = 0.098.
    assert 0.085 < row.quality.interval.half_width < 0.11
    assert format_quality(row.quality).startswith("0.50 ± 0.")


def test_one_seed_without_samples_has_no_interval(store, tmp_path):
    registry = registry_for()
    put(store, registry, "toy/acc", "alpha", 0, {"accuracy": 0.75})
    (row,) = table_of(store, registry, "toy/acc").rows
    assert not row.quality.has_ci and row.quality.n_label == "1 seed"
    assert format_quality(row.quality) == "0.75"


def test_format_quality_rounds_to_the_interval():
    from benchbed.leaderboard.table import Quality
    from benchbed.stats import Interval

    assert (
        format_quality(Quality(Interval(0.91234, 0.90034, 0.92434, 5), "seed")) == "0.912 ± 0.012"
    )
    assert format_quality(Quality(Interval(812.4, 612.4, 1012.4, 5), "seed")) == "812 ± 200"
    assert format_quality(Quality(Interval(0.5, 0.5, 0.5, 5), "seed")) == "0.5000 ± 0.0000"


# -- ranks and ties ----------------------------------------------------------------------


def test_rows_tied_with_the_best_share_its_rank(store, tmp_path):
    registry = registry_for()
    best = [0.90, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97]
    for seed, value in enumerate(best):
        put(store, registry, "toy/acc", "alpha", seed, {"accuracy": value})
        put(store, registry, "toy/acc", "beta", seed, {"accuracy": value - 0.1})  # always worse
        wobble = 0.01 if seed % 2 else -0.02  # sometimes better, sometimes worse
        put(store, registry, "toy/acc", "gamma", seed, {"accuracy": value + wobble})
    alpha, gamma, beta = table_of(store, registry, "toy/acc").rows
    assert (alpha.model, gamma.model, beta.model) == ("alpha", "gamma", "beta")
    assert alpha.comparison is None and alpha.shown_rank == 1
    # Eight equal differences: only the two all-same-sign flips are as extreme, p = 2/2^8.
    assert beta.comparison.p_value == pytest.approx(2 / 256)
    assert not beta.tied and beta.shown_rank == 3
    assert gamma.comparison.pairs == 8 and gamma.comparison.p_value > 0.05
    assert gamma.tied and gamma.shown_rank == 1
    build_site([store.path], tmp_path / "site", registry=registry)
    page = html_of(tmp_path / "site")
    assert ">=1</span>" in page and "benchbed.stats.paired_permutation" in page
    assert "cannot reach p" not in page  # eight pairs are enough


def test_lower_is_better_ranks_ascending_and_few_seeds_are_flagged(store, tmp_path):
    registry = registry_for()
    for seed in range(3):
        put(store, registry, "toy/loss", "alpha", seed, {"loss": 2.0 + seed})
        put(store, registry, "toy/loss", "beta", seed, {"loss": 1.0 + seed})
    table = table_of(store, registry, "toy/loss")
    assert [r.model for r in table.rows] == ["beta", "alpha"]
    alpha = table.rows[1]
    assert alpha.comparison.p_value == pytest.approx(2 / 8)  # three pairs: never < 0.05
    # Undecided, not tied: a p-value of 0.25 is all three pairs can give, however far apart.
    assert not alpha.comparison.decidable and not alpha.tied and alpha.shown_rank == 2
    assert table.underpowered
    build_site([store.path], tmp_path / "site", registry=registry)
    page = html_of(tmp_path / "site")
    assert "fewer than 6 seeds: with so few pairs this test cannot reach p &lt; 0.05" in page
    assert ">2‡</span></td>" in page and "not significantly different from the best:" not in page


def test_single_seed_rows_are_paired_on_items_of_a_shared_seed(store):
    registry = registry_for()
    good = [1.0] * 40 + [0.0] * 10
    put(store, registry, "toy/acc", "alpha", 0, {"accuracy": good})
    put(store, registry, "toy/acc", "beta", 0, {"accuracy": [0.0] * 30 + good[30:]})
    alpha, beta = table_of(store, registry, "toy/acc").rows
    assert (beta.comparison.pairs, beta.comparison.unit) == (50, "item")
    assert beta.comparison.p_value < 0.001 and beta.shown_rank == 2  # 30 items lost, none won
    put(store, registry, "toy/acc", "gamma", 1, {"accuracy": good[:49] + [1.0]})  # best, seed 1
    gamma, alpha, beta = table_of(store, registry, "toy/acc").rows
    assert gamma.model == "gamma" and gamma.comparison is None
    assert alpha.comparison.p_value is None and alpha.rank == 2  # no seed in common with gamma


def test_a_rerun_of_a_seed_replaces_it(store):
    registry = registry_for()
    put(store, registry, "toy/acc", "alpha", 0, {"accuracy": 0.5})
    newer = registry_for()
    newer.plugins["toy"].version = "2"  # another plugin version: another cell key
    put(store, newer, "toy/acc", "alpha", 0, {"accuracy": 0.7})
    (row,) = table_of(store, registry, "toy/acc").rows
    assert len(row.cells) == 1 and row.metrics["accuracy"] == 0.7
    assert row.versions == ["toy@2"]


# -- failures, devices, escaping ---------------------------------------------------------


def test_failed_cells_show_their_first_error_line(store, tmp_path):
    registry = registry_for()
    put(store, registry, "toy/acc", "alpha", 0, {"accuracy": 0.9})
    put(store, registry, "toy/acc", "beta", 0, error="ValueError: boom\n  File x.py, line 3")
    put(store, registry, "toy/acc", "gamma", 0, {"accuracy": 0.8})
    put(store, registry, "toy/acc", "gamma", 1, error="MemoryError: too big")
    build_site([store.path], tmp_path / "site", registry=registry)
    page = html_of(tmp_path / "site")
    failed_row = page[page.index('<tr class="failed">') :].split("</tr>")[0]
    assert ">beta<" in failed_row and "failed</span>" in failed_row
    assert "seed 0: ValueError: boom" in failed_row and "x.py" not in page
    assert "1 of 2 seeds failed." in page and "seed 1: MemoryError: too big" in page
    index = (tmp_path / "site" / "index.html").read_text()
    assert "2 failed" in index


def test_rows_with_tuned_parameters_say_so(store, tmp_path):
    registry = registry_for()
    put(store, registry, "toy/acc", "alpha", 0, {"accuracy": 0.9}, tuned_from="toy/acc|alpha")
    put(store, registry, "toy/acc", "beta", 0, {"accuracy": 0.8})
    build_site([store.path], tmp_path / "site", registry=registry)
    page = html_of(tmp_path / "site")
    rows = [row.split("</tr>")[0] for row in page.split("<tr class=")[1:]]
    alpha = next(row for row in rows if ">alpha<" in row)
    beta = next(row for row in rows if ">beta<" in row)
    assert "parameters tuned on validation (study toy/acc|alpha)" in alpha
    assert "tuned" not in beta


def test_gpu_and_cpu_results_files_merge_with_hardware_labels(tmp_path):
    registry = registry_for()
    cpu, gpu = Store(tmp_path / "cpu.db"), Store(tmp_path / "gpu.db")
    put(cpu, registry, "toy/acc", "alpha", 0, {"accuracy": 0.9}, throughput=100.0)
    put(gpu, registry, "toy/acc", "alpha", 0, {"accuracy": 0.9}, device="cuda",
        device_name="NVIDIA H100 80GB HBM3", throughput=5000.0)  # fmt: skip
    cpu.close(), gpu.close()
    build_site([tmp_path / "cpu.db", tmp_path / "gpu.db"], tmp_path / "site", registry=registry)
    page = (tmp_path / "site" / f"task-{slug('toy/acc')}.html").read_text()
    assert '<span class="device-gpu">GPU: NVIDIA H100 80GB HBM3</span>' in page
    assert '<span class="device-cpu">CPU: Test CPU</span>' in page
    assert 'data-value="5000.0">5,000</td>' in page and 'data-value="100.0">100</td>' in page
    assert str(tmp_path / "gpu.db") in page  # provenance names the file
    index = (tmp_path / "site" / "index.html").read_text()
    assert "CPU: Test CPU, GPU: NVIDIA H100 80GB HBM3" in index


def test_cost_measured_beside_other_cells_is_a_row_of_its_own_that_says_so(store, tmp_path):
    registry = registry_for()
    gpu = {"device": "cuda", "device_name": "NVIDIA H200", "suite": "main"}
    put(store, registry, "toy/acc", "alpha", 0, {"accuracy": 0.9}, throughput=5000.0, **gpu)
    put(store, registry, "toy/acc", "alpha", 1, {"accuracy": 0.9}, throughput=900.0,
        cells_at_once=14, **gpu)  # fmt: skip
    # alone: one row with seed 0, whose run did not record it
    put(store, registry, "toy/acc", "alpha", 2, {"accuracy": 0.9}, throughput=5000.0,
        cells_at_once=1, **gpu)  # fmt: skip
    table = table_of(store, registry, "toy/acc")
    assert sorted((r.device_label, [c.seed for c in r.cells]) for r in table.rows) == [
        ("GPU: NVIDIA H200", [0, 2]),
        ("GPU: NVIDIA H200, 14 cells at a time", [1]),
    ]
    build_site([store.path], tmp_path / "site", registry=registry)
    with open(tmp_path / "site" / f"suite-{slug('main')}.csv") as f:
        assert sorted(r["cells_at_once"] for r in csv.DictReader(f)) == ["", "14"]
    assert "14 cells at a time" in (tmp_path / "site" / f"task-{slug('toy/acc')}.html").read_text()


def test_building_leaves_the_results_files_as_they_were(tmp_path):
    registry = registry_for()
    path = tmp_path / "committed.db"
    store = Store(path)
    put(store, registry, "toy/acc", "alpha", 0, {"accuracy": 0.9}, throughput=100.0)
    store.db.execute("PRAGMA journal_mode=DELETE")  # as a results file is committed
    store.close()
    before = path.read_bytes()
    build_site([path], tmp_path / "site", registry=registry)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["committed.db", "site"]


def test_every_plugin_string_is_escaped(tmp_path):
    evil_task = ToyTask(f"t/{EVIL}", metrics=(f"m{EVIL}",))
    plugin = Toy(
        tasks=[evil_task],
        models=(f'<img src=x onerror="{EVIL}">',),
        metrics=[Metric(f"m{EVIL}", HIGHER)],
    )
    registry = registry_for(plugin)
    store = Store(tmp_path / "r.db")
    model = plugin.models[0]
    put(store, registry, evil_task.name, model, 0, {f"m{EVIL}": [1.0, 0.0, 1.0]},
        params={"label": f'"><a href="javascript:{EVIL}">'}, suite=f"s{EVIL}", throughput=10.0,
        device_name=f"cpu{EVIL}")  # fmt: skip
    put(store, registry, evil_task.name, model, 1, error=f"RuntimeError: {EVIL}", suite=f"s{EVIL}")
    store.close()
    build_site([tmp_path / "r.db"], tmp_path / "site", registry=registry)
    files = list((tmp_path / "site").glob("*.html"))
    assert len(files) == 3  # index, task, suite
    for page in files:
        text = page.read_text()
        assert (
            "<script>alert" not in text
            and "<img src=x" not in text
            and 'href="javascript' not in text
        )
        assert text.count("<script") == 1  # sort.js
    page = html_of(tmp_path / "site")
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "<svg" in page  # the plot was drawn, its labels escaped too


def test_plugin_figures_are_images_and_a_failing_figure_does_not_break_the_build(store, tmp_path):
    registry = registry_for()
    artifacts = {"curve": {"n": 7}, "broken": [1], "weird": [2], "undrawn": [3]}
    put(store, registry, "toy/acc", "alpha", 0, {"accuracy": 0.9}, artifacts=artifacts)
    build_site([store.path], tmp_path / "site", registry=registry)
    page = html_of(tmp_path / "site")
    assert page.count('<img src="data:image/svg+xml;base64,') == 1
    assert "<text>7</text>" not in page  # the plugin's SVG is data, not markup of the page
    assert "<code>broken</code> of alpha" in page and "<code>undrawn</code> of alpha" in page
    assert "<code>weird</code> of alpha" in page
    assert any("cannot draw this" in p for p in registry.problems())


def test_pareto_front():
    points = [(10, 0.9), (100, 0.8), (50, 0.7), (1000, 0.5), (5, 0.85)]
    assert pareto_front(points, higher_is_better=True) == [0, 1, 3]
    assert pareto_front([(1, 3.0), (2, 1.0), (3, 2.0)], higher_is_better=False) == [1, 2]


# -- the build: exports, errors, the command ---------------------------------------------


def test_exports_hold_the_numbers_and_their_provenance(store, tmp_path):
    registry = registry_for()
    for seed, value in enumerate([0.8, 0.9, 1.0]):
        put(
            store,
            registry,
            "toy/acc",
            "alpha",
            seed,
            {"accuracy": value, "loss": 1 / 3},
            suite="main",
        )
    put(store, registry, "toy/acc", "beta", 0, error="KeyError: 'x'", suite="main")
    build_site([store.path], tmp_path / "site", registry=registry)
    stem = f"suite-{slug('main')}"
    page = (tmp_path / "site" / f"{stem}.html").read_text()
    assert f'href="{stem}.csv"' in page and f'href="{stem}.json"' in page
    with open(tmp_path / "site" / f"{stem}.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["model"] for r in rows] == ["alpha", "beta"]
    assert float(rows[0]["mean"]) == pytest.approx(0.9) and rows[0]["n"] == "3"
    assert float(rows[0]["metric:loss"]) == 1 / 3 and rows[1]["error"] == "KeyError: 'x'"
    data = json.loads((tmp_path / "site" / f"{stem}.json").read_text())
    (table,) = data["tables"]
    assert [c["seed"] for c in table["rows"][0]["cells"]] == [0, 1, 2]
    assert {r["git_commit"] for r in data["runs"]} == {"abc123"} and len(data["runs"]) == 4


def test_missing_or_empty_store_says_what_to_run(tmp_path, capsys):
    with pytest.raises(BenchbedError, match="no results store at .*benchbed run"):
        build_site([tmp_path / "nope.db"], tmp_path / "site")
    Store(tmp_path / "empty.db").close()
    with pytest.raises(BenchbedError, match="holds no results yet; run some cells first"):
        build_site([tmp_path / "empty.db"], tmp_path / "site")
    assert main(["leaderboard", "build", "--db", str(tmp_path / "nope.db")]) == 2
    assert "benchbed run" in capsys.readouterr().err


def test_default_store_and_command(store, tmp_path, monkeypatch, capsys):
    put(store, registry_for(), "toy/acc", "alpha", 0, {"accuracy": [0.0, 1.0]})
    monkeypatch.setenv("BENCHBED_DB", str(store.path))
    assert main(["leaderboard", "build", "--out", str(tmp_path / "site")]) == 0
    assert capsys.readouterr().out.strip() == f"leaderboard: {tmp_path / 'site' / 'index.html'}"
    assert (tmp_path / "site" / "style.css").is_file() and (tmp_path / "site" / "sort.js").is_file()
    assert ">alpha<" in html_of(tmp_path / "site")


def test_tasks_of_uninstalled_plugins_are_shown_unranked(store, tmp_path):
    registry = registry_for()
    put(store, registry, "toy/acc", "alpha", 0, {"accuracy": 0.9})
    put(store, registry, "toy/acc", "beta", 0, {"accuracy": 0.8})
    bare = load_registry(entry_point_plugins=False)
    build_site([store.path], tmp_path / "site", registry=bare)
    page = html_of(tmp_path / "site")
    assert "rows are not ranked" in page and ">alpha<" in page and ">beta<" in page
    assert ">=1</span>" not in page and "†" not in page


def test_a_rebuild_removes_pages_of_tasks_no_longer_stored(store, tmp_path):
    registry = registry_for()
    put(store, registry, "toy/acc", "alpha", 0, {"accuracy": 0.9})
    out = tmp_path / "site"
    out.mkdir()
    (out / "task-gone-12345678.html").write_text("old")
    (out / "notes.txt").write_text("mine")
    build_site([store.path], out, registry=registry)
    assert not (out / "task-gone-12345678.html").exists() and (out / "notes.txt").exists()


def test_templates_and_assets_ship_in_the_wheel(store, tmp_path):
    """A regular (non-editable) install finds the templates and assets too."""
    root = Path(benchbed.__file__).parent.parent
    source = tmp_path / "source"  # a copy, so the build leaves the checkout alone
    shutil.copytree(
        root / "benchbed", source / "benchbed", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(root / "pyproject.toml", source)
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheel_dir), str(source)],
        check=True, capture_output=True, cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = wheel_dir.glob("benchbed-*.whl")
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)
    put(store, registry_for(), "toy/acc", "alpha", 0, {"accuracy": 0.9})
    script = (
        "import benchbed, sys; from pathlib import Path;"
        "assert Path(benchbed.__file__).is_relative_to(sys.argv[1]), benchbed.__file__;"
        "from benchbed.leaderboard import build_site; build_site([sys.argv[2]], sys.argv[3])"
    )
    subprocess.run(
        [sys.executable, "-c", script, str(installed), str(store.path), str(tmp_path / "site")],
        check=True, env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"}, cwd=tmp_path,
    )  # fmt: skip
    assert (tmp_path / "site" / "style.css").is_file()
    assert "<table" in (tmp_path / "site" / "index.html").read_text()


class AcrossTasks(Toy):
    """Draws one figure across a suite's tasks from the rows it is given."""

    seen: dict = {}

    @benchbed.hookimpl
    def benchbed_suite_figures(self, suite, rows):
        AcrossTasks.seen[suite] = rows
        if suite == "broken-suite":
            raise RuntimeError("cannot draw")
        means = " ".join(f"{r['task']}={r['mean']:.2f}" for r in rows)
        return [("means", f'<svg xmlns="http://www.w3.org/2000/svg"><text>{means}</text></svg>')]


def test_suite_pages_show_figures_that_span_tasks(store, tmp_path):
    registry = registry_for(AcrossTasks())
    put(store, registry, "toy/acc", "alpha", 0, {"accuracy": [1.0, 0.0, 1.0, 1.0]}, suite="both")
    put(store, registry, "toy/loss", "beta", 0, {"loss": 0.25, "accuracy": 0.5}, suite="both")
    put(store, registry, "toy/acc", "beta", 0, {"accuracy": 0.5}, suite="broken-suite")
    build_site([store.path], tmp_path / "site", registry=registry)
    pages = {p.name: p.read_text() for p in (tmp_path / "site").glob("suite-*.html")}
    both = next(text for name, text in pages.items() if name.startswith("suite-both"))
    assert "means · across this suite" in both and "drawn by toy" in both
    broken = next(text for name, text in pages.items() if name.startswith("suite-broken"))
    assert "across this suite" not in broken  # a failing hook costs only its figure
    rows = {r["task"]: r for r in AcrossTasks.seen["both"]}
    assert (
        rows["toy/acc"]["mean"] == pytest.approx(0.75) and rows["toy/acc"]["metric"] == "accuracy"
    )
    assert rows["toy/loss"]["mean"] == pytest.approx(0.25) and rows["toy/loss"]["metric"] == "loss"
