"""Suite files: which tasks x models x parameter grid x seeds to run.

    name = "continual"                      # optional; the file name otherwise
    description = "Split-MNIST, three scenarios"
    seeds = [0, 1, 2]

    [[grid]]
    tasks = ["continual/split-mnist/*"]     # names or shell-style patterns
    models = ["naive", "ewc"]
    seeds = [0]                             # optional, overrides the suite's

    [grid.params.ewc]                       # per model; a list is a grid axis
    ewc_lambda = [100, 1000]

    [grid.params]                           # or what `benchbed tune` found:
    lwf = "tuned"                           # the study "TASK|lwf", or a study's name

Every mistake is reported with the file and, where it can be found, the line. Cells run seed
by seed (every grid's seed 0 first), so a suite stopped early leaves whole seeds to compare.
"""

from __future__ import annotations

import fnmatch
import itertools
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchbed.cells import Cell, make_cell
from benchbed.errors import BenchbedError, suggest, unknown
from benchbed.plugins import Registry

SUITE_KEYS = {"name", "description", "seeds", "grid"}
GRID_KEYS = {"tasks", "models", "seeds", "params"}


@dataclass
class Suite:
    name: str
    description: str
    path: Path
    cells: list[Cell]


def find_suite(registry: Registry, name_or_path: str) -> Path:
    """A registered suite name, or a path to a TOML file."""
    if name_or_path in registry.suites:
        return registry.suites[name_or_path]
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        return path
    raise unknown("suite", name_or_path, registry.suites)


TunedLookup = Callable[[str], "dict[str, Any] | None"]


def load_suite(
    registry: Registry, path: Path, device: str, tuned: TunedLookup | None = None
) -> Suite:
    """Parse and expand a suite; `tuned(study)` gives the best parameters a study found."""
    text = path.read_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BenchbedError(f"{path}: not valid TOML: {exc}") from None
    where = _Locator(path, text)
    _check_keys(data, SUITE_KEYS, "suite", where)
    seeds = _seeds(data.get("seeds", [0]), where)
    grids = data.get("grid")
    if not isinstance(grids, list) or not grids:
        raise BenchbedError(f"{path}: a suite needs at least one [[grid]] table")
    cells: dict[str, Cell] = {}
    for grid in grids:
        for cell in _expand(registry, grid, seeds, device, where, tuned):
            cells.setdefault(cell.key, cell)
    return Suite(
        name=str(data.get("name", path.stem)),
        description=str(data.get("description", "")),
        path=path,
        cells=sorted(cells.values(), key=lambda cell: cell.seed),  # stable: grid order within
    )


def _expand(registry, grid: dict, seeds: list[int], device: str, where: _Locator, tuned):
    _check_keys(grid, GRID_KEYS, "[[grid]]", where)
    for key in ("tasks", "models"):
        if not isinstance(grid.get(key), list) or not grid[key]:
            raise where.error(f"[[grid]] needs a non-empty list '{key}'", key)
    tasks = [name for pattern in grid["tasks"] for name in _match_tasks(registry, pattern, where)]
    for model in grid["models"]:
        if model not in registry.models:
            raise where.error(str(unknown("model", model, registry.models)), f'"{model}"')
    params = grid.get("params", {})
    for model in params if isinstance(params, dict) else ():
        if model not in grid["models"]:
            raise where.error(
                f"[grid.params.{model}] names a model that is not in this grid's models",
                f"{model}",
            )
    seeds = _seeds(grid["seeds"], where) if "seeds" in grid else seeds
    for task, model in itertools.product(tasks, grid["models"]):
        source = params.get(model, {}) if isinstance(params, dict) else params
        combos, tuned_from = _model_params(task, model, source, tuned, where)
        for combo in combos:
            for seed in seeds:
                try:
                    yield make_cell(
                        registry, task, model, combo, seed, device, tuned_from=tuned_from
                    )
                except BenchbedError as exc:
                    raise where.error(str(exc), f'"{model}"') from None


def _model_params(task: str, model: str, source, tuned, where: _Locator):
    """The parameter combinations of a model in a grid, and the study they came from."""
    if isinstance(source, dict):
        return _combinations(source), None
    if not isinstance(source, str):
        raise where.error(f"parameters of '{model}' must be a table or \"tuned\"", model)
    from benchbed.tuning import study_name

    study = study_name(task, model) if source == "tuned" else source
    found = tuned(study) if tuned else None
    if found is None:
        raise where.error(
            f"no tuned parameters for study '{study}' in the results file; run "
            f"`benchbed tune {task} --model {model} --trials N` first",
            f'"{source}"',
        )
    return [found["params"]], study


def _match_tasks(registry: Registry, pattern: str, where: _Locator) -> list[str]:
    if pattern in registry.tasks:
        return [pattern]
    matched = sorted(fnmatch.filter(registry.tasks, pattern))
    if not matched:
        raise where.error(str(unknown("task", pattern, registry.tasks)), f'"{pattern}"')
    return matched


def _combinations(grid: dict[str, Any]) -> list[dict[str, Any]]:
    axes = {k: v if isinstance(v, list) else [v] for k, v in grid.items()}
    return [dict(zip(axes, values)) for values in itertools.product(*axes.values())]


def _seeds(value: Any, where: _Locator) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(s, int) for s in value) or not value:
        raise where.error("seeds must be a non-empty list of integers", "seeds")
    return value


def _check_keys(table: dict, allowed: set[str], what: str, where: _Locator) -> None:
    for key in table:
        if key not in allowed:
            raise where.error(f"unknown key '{key}' in {what}{suggest(key, allowed)}", key)


class _Locator:
    """Turns a message into 'file, line N: message' by finding the offending text."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.lines = text.splitlines()

    def error(self, message: str, needle: str) -> BenchbedError:
        for number, line in enumerate(self.lines, start=1):
            if needle in line.split("#", 1)[0]:
                return BenchbedError(f"{self.path}, line {number}: {message}")
        return BenchbedError(f"{self.path}: {message}")
