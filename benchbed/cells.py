"""A cell is one unit of work: a task, a model with its parameters, a seed and a device.

Its key is a content hash of all of that plus the versions of the plugins behind the task
and the model, so a stored result is reused exactly when nothing that made it has changed.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from typing import Any

from benchbed.errors import BenchbedError, suggest
from benchbed.plugins import Registry


@dataclass(frozen=True)
class Cell:
    task: str
    model: str
    params: dict[str, Any] = field(hash=False)
    seed: int
    device: str
    versions: dict[str, str] = field(hash=False)  # plugin@version behind task and model
    split: str = "test"  # "validation" only while tuning
    tuned_from: str | None = field(default=None, compare=False)  # the study params came from

    @property
    def key(self) -> str:
        payload = json.dumps(
            {
                "task": self.task,
                "model": self.model,
                "params": self.params,
                "seed": self.seed,
                "device": self.device,
                "versions": self.versions,
                "split": self.split,
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        params = ",".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.task} | {self.model}{f'({params})' if params else ''} | seed {self.seed}"


def make_cell(
    registry: Registry,
    task: str,
    model: str,
    params: dict[str, Any],
    seed: int,
    device: str,
    split: str = "test",
    tuned_from: str | None = None,
) -> Cell:
    """Check that `model` can solve `task` and takes `params`, and build the cell."""
    task_obj = registry.task(task)
    spec = registry.model(model)
    if not spec.solves(task_obj.kind):
        solvers = sorted(m.name for m in registry.models.values() if m.solves(task_obj.kind))
        raise BenchbedError(
            f"model '{model}' cannot solve task '{task}': the task needs a "
            f"'{task_obj.kind.name}' ({task_obj.kind.description}), and '{model}' is a "
            f"{' / '.join(spec.kinds)}. Models for this task: {', '.join(solvers) or 'none'}"
        )
    if split not in task_obj.splits:
        raise BenchbedError(
            f"task '{task}' has no {split} split (it offers: {', '.join(task_obj.splits)})"
        )
    for name in params:
        if name not in spec.defaults:
            accepted = ", ".join(sorted(spec.defaults)) or "none"
            raise BenchbedError(
                f"model '{model}' has no parameter '{name}'{suggest(name, spec.defaults)}; "
                f"it accepts: {accepted}"
            )
    task_owner = registry.owner("task", task)
    model_owner = registry.owner("model", model)
    return Cell(
        task=task,
        model=model,
        params={**spec.defaults, **params},
        seed=int(seed),
        device=device,
        versions={
            "task": f"{task_owner.distribution}@{task_owner.version}",
            "model": f"{model_owner.distribution}@{model_owner.version}",
        },
        split=split,
        tuned_from=tuned_from,
    )


def parse_param(assignment: str) -> tuple[str, Any]:
    """'lr=1e-3' -> ('lr', 0.001); values are TOML literals, bare words are strings."""
    name, sep, text = assignment.partition("=")
    if not sep or not name.strip():
        raise BenchbedError(f"--param expects NAME=VALUE, got '{assignment}'")
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = text.strip()
    return name.strip(), value
