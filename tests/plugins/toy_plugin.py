"""A small, fast plugin for the core's tests: real hooks, trivial work."""

import time

import benchbed
from benchbed import HIGHER, Kind, Metric, ModelSpec, Result, Score, Task

SCORER = Kind("toy-scorer", "score(n, rng) -> n numbers in [0, 1]", methods=("score",))
COUNTER = Kind("toy-counter", "count(n) -> int", methods=("count",))


class NoisyTask(Task):
    """Per-item scores from the model, drawn with the cell's random generator."""

    name = "toy/noisy"
    kind = SCORER
    description = "mean of 50 scores drawn by the model"
    metrics = ("toy_score",)

    def evaluate(self, model, ctx):
        with ctx.timer.phase("inference", items=50) as phase:
            for _ in range(5):
                with phase.step(items=10):
                    pass
            scores = model.score(50, ctx.rng())
        return Result({"toy_score": Score.mean_of(scores)}, artifacts={"first": scores[:3]})


class SleepyTask(Task):
    name = "toy/sleepy"
    kind = SCORER
    description = "sleeps, then scores: for interruption tests"
    metrics = ("toy_score",)

    def evaluate(self, model, ctx):
        time.sleep(model.delay)
        return Result({"toy_score": float(model.score(1, ctx.rng())[0])})


class CountTask(Task):
    name = "toy/count"
    kind = COUNTER
    description = "a task of another kind"
    metrics = ("toy_score",)

    def evaluate(self, model, ctx):
        return Result({"toy_score": model.count(3)})


class ThreadsTask(Task):
    """Reports what its cell ran under: the thread limit, as the numeric libraries would read
    it, and whether the task may draw progress bars."""

    name = "toy/threads"
    kind = SCORER
    description = "stores OMP_NUM_THREADS as seen inside the cell"
    metrics = ("toy_score",)

    def evaluate(self, model, ctx):
        import os

        return Result(
            {"toy_score": 1.0},
            {"threads": os.environ.get("OMP_NUM_THREADS"), "progress": ctx.show_progress},
        )


SPLITS_SEEN = []  # which splits TargetTask was evaluated on, for the leakage test


class TargetTask(Task):
    """A tunable task: the score peaks at x = 1 on validation (x = 1.1 on test)."""

    name = "toy/target"
    kind = Kind("toy-guesser", "guess() -> float", methods=("guess",))
    description = "how close the model's guess is to a hidden target"
    metrics = ("toy_score",)
    splits = ("test", "validation")

    def evaluate(self, model, ctx):
        SPLITS_SEEN.append(ctx.split)
        target = 1.0 if ctx.split == "validation" else 1.1
        for step in range(3):  # intermediate values, as an epoch loop would report them
            ctx.report(step, -((model.guess() - target) ** 2) * (3 - step))
        return Result({"toy_score": -((model.guess() - target) ** 2)})


class Guesser:
    def __init__(self, x=0.0):
        self.x = x

    def guess(self):
        return self.x


class Uniform:
    def __init__(self, low=0.0, delay=0.0):
        self.low, self.delay = low, delay

    def score(self, n, rng):
        return list(rng.uniform(self.low, 1.0, size=n))


class Failing:
    def score(self, n, rng):
        raise RuntimeError("this model always fails")


class Dying:
    """Kills its own process, as an out-of-memory kill would; notes each attempt in a file."""

    def __init__(self, attempts_file=""):
        self.attempts_file = attempts_file

    def score(self, n, rng):
        import os

        with open(self.attempts_file, "a") as f:
            f.write("attempt\n")
        os._exit(1)


class Counter:
    def count(self, n):
        return n


@benchbed.hookimpl
def benchbed_metrics():
    return [Metric("toy_score", HIGHER, "mean score")]


@benchbed.hookimpl
def benchbed_tasks():
    return [NoisyTask(), SleepyTask(), CountTask(), TargetTask(), ThreadsTask()]


@benchbed.hookimpl
def benchbed_models():
    return [
        ModelSpec(
            "uniform", ("toy-scorer",), Uniform, "uniform scores", {"low": 0.0, "delay": 0.0}
        ),
        ModelSpec("failing", ("toy-scorer",), Failing, "raises"),
        ModelSpec("dying", ("toy-scorer",), Dying, "kills its process", {"attempts_file": ""}),
        ModelSpec("counter", ("toy-counter",), Counter, "counts"),
        ModelSpec(
            "guesser",
            ("toy-guesser",),
            Guesser,
            "guesses x",
            defaults={"x": 0.0},
            search_space={"x": ("float", -2.0, 2.0)},
        ),
    ]
