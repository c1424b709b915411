"""The plugin as benchbed sees it: registration, a light entry point, the quick suite via the CLI."""

import json
import subprocess
import sys

import numpy as np
from benchbed_cascades import tasks
from test_cascades_task import fake_generations

from benchbed import Context
from benchbed.plugins import load_registry
from benchbed.testing import heavy_imports, require_asset


def test_registered():
    registry = load_registry()
    assert "cascades/quiz/smol135m-qwen0.5b" in registry.tasks
    assert {"chow-sum", "chow-average", "chow-quantile", "post-hoc-quantile", "post-hoc-embed-1",
            "post-hoc-embed-1+2", "random-deferral", "oracle-deferral"} <= set(registry.models)  # fmt: skip
    assert {"cascades-quick", "cascades"} <= set(registry.suites)
    assert set(tasks.METRICS) <= set(registry.metrics)


def test_entry_point_import_is_light():
    heavy = ("torch", "transformers", "sklearn", "numpy")
    assert heavy_imports("benchbed_cascades.plugin", heavy) == []


def test_quick_suite_through_the_cli(cache, tmp_path):
    """`benchbed run suite cascades-quick` on stored generations: every cell succeeds and the
    oracle's AUC-DF bounds every rule's."""
    benchbed = [sys.executable, "-m", "benchbed.cli"]  # the command, in this environment
    task = tasks.CascadeTask("quiz", "smol135m-qwen0.5b", 40, variant="-40")
    require_asset(lambda: fake_generations(task, Context(plugin="cascades"), np.random.default_rng(1)))
    db = str(tmp_path / "r.db")
    run = subprocess.run([*benchbed, "run", "suite", "cascades-quick", "--db", db, "--no-progress"],
                         capture_output=True, text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    out = subprocess.run([*benchbed, "results", "--suite", "cascades-quick", "--format", "json", "--db", db],
                         capture_output=True, text=True, check=True)  # fmt: skip
    rows = [r for r in json.loads(out.stdout) if r["metric"] == "auc_df"]
    assert len(rows) == 6 and all(r["status"] == "ok" for r in rows)
    best = max(r["value"] for r in rows if r["model"] == "oracle-deferral")
    assert all(r["value"] <= best + 1e-9 for r in rows)
