"""The plugin as benchbed sees it: registration, light import, suites, CLI."""

import subprocess
import sys

from benchbed.plugins import load_registry
from benchbed.testing import heavy_imports


def test_registered():
    registry = load_registry()
    assert "text2sql/chinook" in registry.tasks
    assert "text2sql/spider-dev/generated" in registry.tasks
    assert {"gold-sql", "nearest-question-sql", "qwen2.5-coder-0.5b-dail"} <= set(registry.models)
    assert {"text2sql-quick", "text2sql"} <= set(registry.suites)
    task = registry.task("text2sql/chinook")
    assert set(task.metrics) <= set(registry.metrics)


def test_entry_point_import_is_light():
    heavy = ("torch", "transformers", "sqlglot", "numpy")
    assert heavy_imports("benchbed_text2sql.plugin", heavy) == []


def test_real_spider_task_explains_the_variable(ctx, monkeypatch):
    import pytest
    from benchbed_text2sql import tasks

    from benchbed import BenchbedError

    monkeypatch.delenv("BENCHBED_SPIDER_DIR", raising=False)
    with pytest.raises(BenchbedError, match="BENCHBED_SPIDER_DIR"):
        tasks.spider_real(ctx)


def test_quick_suite_through_the_cli(ctx, tmp_path):
    """`benchbed run suite text2sql-quick`: both cells succeed, the oracle scores 100%."""
    import json
    
    import pytest
    from benchbed_text2sql import tasks
    from text2sql_helpers import need

    need(tasks.chinook, ctx)
    pytest.importorskip("transformers")
    benchbed = [sys.executable, "-m", "benchbed.cli"]  # the command, in this environment
    db = str(tmp_path / "r.db")
    run = subprocess.run(
        [*benchbed, "run", "suite", "text2sql-quick", "--db", db, "--no-progress"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    out = subprocess.run(
        [*benchbed, "results", "--db", db, "--format", "json"], capture_output=True, text=True, check=True
    )
    rows = {(r["model"], r["metric"]): r["value"] for r in json.loads(out.stdout)}
    assert rows[("gold-sql", "execution_accuracy")] == 1.0
    assert ("nearest-question-sql", "execution_accuracy") in rows


def test_shipped_suites_expand_into_valid_cells():
    from benchbed.suites import load_suite

    registry = load_registry()
    quick = load_suite(registry, registry.suites["text2sql-quick"], "cpu")
    assert {(c.task, c.model) for c in quick.cells} == {
        ("text2sql/chinook", "gold-sql"),
        ("text2sql/chinook", "nearest-question-sql"),
    }
    full = load_suite(registry, registry.suites["text2sql"], "cpu")
    assert len(full.cells) == 4 + 10
