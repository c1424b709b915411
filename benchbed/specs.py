"""What plugins register (kinds, tasks, models, metrics) and what a task returns (a Result).

These are plain objects with no behaviour of their own beyond validation: the runner
wires them together, the store persists what they produce.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchbed.context import Context

HIGHER = "higher"
LOWER = "lower"


@dataclass(frozen=True)
class Kind:
    """The interface a model must offer to be evaluated by a task of this kind.

    `methods` are the attribute names the built model must have; the runner checks them
    before a task sees the model, so a wrong pairing fails with a message, not deep inside.
    """

    name: str
    description: str
    methods: tuple[str, ...] = ()

    def missing(self, model: Any) -> list[str]:
        return [m for m in self.methods if not callable(getattr(model, m, None))]


class Task:
    """A benchmark: metadata plus `evaluate(model, ctx) -> Result`.

    Subclasses set the attributes (as class attributes, or in `__init__` when one class
    provides several tasks) and implement `evaluate`.
    """

    name: str  # "area/benchmark/variant", unique across plugins
    kind: Kind
    description: str = ""
    metrics: tuple[str, ...] = ()  # every metric evaluate() may report
    main_metric: str = ""  # the one the leaderboard ranks by; defaults to metrics[0]
    splits: tuple[str, ...] = ("test",)  # a task that can be tuned also offers "validation"

    def evaluate(self, model: Any, ctx: Context) -> Result:
        raise NotImplementedError(f"task {self.name} does not implement evaluate()")

    @property
    def primary_metric(self) -> str:
        return self.main_metric or self.metrics[0]

    def __repr__(self) -> str:
        return f"<Task {self.name} ({self.kind.name})>"


RANGES = ("log", "float", "int", "choice")


def search_space_problem(name: str, space: Any, parameters: Any) -> str | None:
    """What is wrong with one entry of a model's search space, or None: the registry refuses a
    model whose space `benchbed.tuning.suggest` could not use."""
    if name not in parameters:
        return f"'{name}' is not one of the model's parameters ({', '.join(parameters) or 'none'})"
    if not isinstance(space, tuple) or not space or space[0] not in RANGES:
        return f"'{name}': {space!r} is not a range; write (TYPE, ...) with TYPE one of {RANGES}"
    kind, *args = space
    if kind == "choice":
        if len(args) != 1 or not isinstance(args[0], list | tuple) or not args[0]:
            return f"'{name}': a choice is ('choice', [value, ...]), not {space!r}"
        return None
    numeric = len(args) == 2 and all(isinstance(a, int | float) for a in args)
    if not numeric or not args[0] < args[1] or (kind == "log" and args[0] <= 0):
        return f"'{name}': a {kind} range is ('{kind}', low, high) with low < high, not {space!r}"
    return None


@dataclass(frozen=True)
class ModelSpec:
    """A method: how to build it and which parameters it takes.

    `factory(**params)` builds the model; `defaults` lists every parameter it accepts (a
    suite that names any other parameter is refused). `search_space` maps a parameter to
    a range of one of the RANGES types: {"lr": ("log", 1e-4, 1e-1)}, {"k": ("int", 1, 20)},
    {"mode": ("choice", ["a", "b"])}. The registry refuses a model whose space is malformed.
    """

    name: str
    kinds: tuple[str, ...]
    factory: Callable[..., Any]
    description: str = ""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    search_space: Mapping[str, tuple] = field(default_factory=dict)

    def solves(self, kind: Kind) -> bool:
        return kind.name in self.kinds


@dataclass(frozen=True)
class Metric:
    """A quality measure: its direction decides ranks and ties on the leaderboard."""

    name: str
    direction: str  # HIGHER or LOWER is better
    description: str = ""

    def better(self, a: float, b: float) -> bool:
        return a > b if self.direction == HIGHER else a < b


@dataclass
class Score:
    """One metric's value for one cell, with the per-unit values behind it.

    `samples` (per item, per episode, per task...) are what bootstrap intervals and paired
    tests between models need; sample i must mean the same unit for every model on a task.
    """

    value: float
    samples: Sequence[float] | None = None
    unit: str = "item"

    @classmethod
    def mean_of(cls, samples: Sequence[float], unit: str = "item") -> Score:
        values = [float(s) for s in samples]
        if not values:
            raise ValueError("Score.mean_of needs at least one sample")
        return cls(value=math.fsum(values) / len(values), samples=values, unit=unit)


@dataclass
class Result:
    """What `Task.evaluate` returns: metric values and JSON-serialisable artifacts."""

    metrics: dict[str, Score | float]
    artifacts: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.metrics = {
            name: value if isinstance(value, Score) else Score(float(value))
            for name, value in self.metrics.items()
        }
