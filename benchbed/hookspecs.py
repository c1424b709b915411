"""The plugin contract. A plugin is a module (or object) with some of these functions,
marked with `@benchbed.hookimpl` and exposed through the `benchbed` entry-point group:

    [project.entry-points.benchbed]
    myplugin = "benchbed_myplugin.plugin"
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("benchbed")


@hookspec
def benchbed_tasks() -> list:
    """Return the benchmarks (`benchbed.Task` instances) this plugin provides."""


@hookspec
def benchbed_models() -> list:
    """Return the methods (`benchbed.ModelSpec`) this plugin provides; each names the task
    kinds it solves, its default parameters and its search space."""


@hookspec
def benchbed_metrics() -> list:
    """Return the metrics (`benchbed.Metric`: name, direction, description) that this
    plugin's tasks report and no other plugin defines."""


@hookspec
def benchbed_suites() -> list:
    """Return paths of the suite files (TOML) this plugin ships."""


@hookspec
def benchbed_figures(task, artifact_name: str, artifact) -> str | None:
    """Render a stored artifact of `task` (e.g. an accuracy matrix) as an SVG string for the
    leaderboard, or return None when this plugin does not draw that artifact."""


@hookspec
def benchbed_suite_figures(suite: str, rows: list) -> list | None:
    """Draw figures that span several tasks of a suite (e.g. accuracy against shots).

    `rows` has one dict per leaderboard row of the suite: task, model, params (dict), device
    (its label), metric (the task's main metric), mean, low and high (the 95% interval; NaN
    when there is none) and n. Return a list of (title, SVG string) pairs, or None."""


@hookspec
def benchbed_run_started(run_id: str, suite: str | None, cells: list) -> None:
    """A run is about to execute `cells` (those not already stored). For reporters."""


@hookspec
def benchbed_cell_finished(run_id: str, cell, outcome) -> None:
    """One cell has finished (`outcome.status` is "ok" or "failed") and is stored."""


@hookspec
def benchbed_run_finished(run_id: str, summary: dict) -> None:
    """A run has ended: `summary` counts cells by status and says if it was interrupted."""
