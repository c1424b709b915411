"""A plugin whose registrations break the rules, one of each."""

import benchbed
from benchbed import HIGHER, Kind, Metric, ModelSpec, Result, Task

ORPHAN = Kind("orphan-kind", "nobody's")


class Duplicate(Task):
    name = "toy/noisy"  # already registered by the toy plugin
    kind = Kind("toy-scorer", "score(n, rng) -> n numbers in [0, 1]", methods=("score",))
    metrics = ("toy_score",)

    def evaluate(self, model, ctx):
        return Result({"toy_score": 0.0})


@benchbed.hookimpl
def benchbed_metrics():
    return [Metric("directionless", "sideways"), Metric("fine_metric", HIGHER)]


@benchbed.hookimpl
def benchbed_tasks():
    return [Duplicate()]


@benchbed.hookimpl
def benchbed_models():
    return [
        ModelSpec("orphan-model", ("orphan-kind",), object),
        # a bare tuple of choices instead of ("choice", [...])
        ModelSpec(
            "shapeless-space",
            ("toy-scorer",),
            object,
            defaults={"mode": "a"},
            search_space={"mode": ("a", "b")},
        ),
    ]
