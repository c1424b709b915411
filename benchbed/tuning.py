"""Hyper-parameter tuning with optuna over the search space a model declares.

The objective is the task's main metric on its *validation* split, never the test split.
The study lives in the results file (optuna's own tables beside benchbed's), and the best
parameters go to `tuned_params`, where a suite picks them up with `"tuned"`:

    [grid.params]
    ewc = "tuned"            # the study "TASK|ewc" of each task in the grid
    lwf = "my-study"         # or a study by name

Search spaces: {"lr": ("log", 1e-4, 1e-1), "dropout": ("float", 0.0, 0.5),
"k": ("int", 1, 20), "mode": ("choice", ["un", "l2n", "cl2n"])}.
"""

from __future__ import annotations

import json
from typing import Any

from benchbed.cells import make_cell
from benchbed.context import Pruned
from benchbed.errors import BenchbedError
from benchbed.execution import execute_cell
from benchbed.plugins import Registry
from benchbed.specs import HIGHER
from benchbed.store import Store


class TrialFailed(Exception):
    """A trial whose cell failed: recorded by optuna as failed, and the study goes on."""


def study_name(task: str, model: str) -> str:
    return f"{task}|{model}"


def suggest(trial, name: str, space: tuple) -> Any:
    kind, *args = space
    if kind == "log":
        return trial.suggest_float(name, args[0], args[1], log=True)
    if kind == "float":
        return trial.suggest_float(name, args[0], args[1])
    if kind == "int":
        return trial.suggest_int(name, args[0], args[1])
    if kind == "choice":
        return trial.suggest_categorical(name, list(args[0]))
    raise BenchbedError(f"search space of '{name}': unknown range type '{kind}'")


def tune(
    registry: Registry,
    store: Store,
    task: str,
    model: str,
    trials: int,
    device: str = "cpu",
    seed: int = 0,
    study: str | None = None,
    resume: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Run `trials` more trials and record the best parameters; returns the tuned_params row."""
    import optuna

    task_obj, spec = registry.task(task), registry.model(model)
    make_cell(registry, task, model, {}, seed, device)  # the pairing check, with its message
    if "validation" not in task_obj.splits:
        raise BenchbedError(
            f"task '{task}' cannot be tuned: it has no validation split, and tuning on the "
            "test split would leak it"
        )
    if not spec.search_space:
        raise BenchbedError(f"model '{model}' declares no search space to tune")
    metric = registry.metric(task_obj.primary_metric)
    name = study or study_name(task, model)
    storage = optuna.storages.RDBStorage(f"sqlite:///{store.path.resolve()}")
    exists = name in {s.study_name for s in storage.get_all_studies()}
    if exists and not resume:
        raise BenchbedError(
            f"study '{name}' already exists in {store.path}: --resume continues it, "
            "--study NAME starts another"
        )
    if resume and not exists:
        raise BenchbedError(f"no study '{name}' in {store.path} to resume")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    direction = "maximize" if metric.direction == HIGHER else "minimize"
    opt = optuna.create_study(
        study_name=name,
        storage=storage,
        direction=direction,
        sampler=optuna.samplers.TPESampler(seed=seed + len(_finished(storage, name))),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
        load_if_exists=True,
    )

    def objective(trial) -> float:
        params = {p: suggest(trial, p, space) for p, space in spec.search_space.items()}
        cell = make_cell(registry, task, model, params, seed, device, split="validation")

        def reporter(step: int, value: float) -> bool:
            trial.report(value, step)
            return trial.should_prune()

        try:
            outcome = execute_cell(registry, cell, show_progress=False, reporter=reporter)
        except Pruned:
            raise optuna.TrialPruned() from None
        if outcome.status != "ok":
            raise TrialFailed(outcome.error)
        return outcome.metrics[metric.name].value

    opt.optimize(objective, n_trials=trials, catch=(TrialFailed,), show_progress_bar=progress)
    completed = [t for t in opt.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not completed:
        raise BenchbedError(f"no trial of study '{name}' completed; see the failed trials")
    best = opt.best_trial
    row = {
        "study": name,
        "task": task,
        "model": model,
        "metric": metric.name,
        "direction": metric.direction,
        "best_value": best.value,
        "params": best.params,
        "trials": len(opt.trials),
    }
    store.save_tuned({**row, "params": json.dumps(best.params, sort_keys=True)})
    return row


def _finished(storage, name: str) -> list:
    """Trials a resumed study already has, so its sampler does not replay their seeds."""
    try:
        study_id = storage.get_study_id_from_name(name)
    except KeyError:
        return []
    return storage.get_all_trials(study_id, deepcopy=False)
