"""The benchbed-fewshot plugin: tasks, methods, suites and figures.

Importing this module is cheap (no torch): the method modules are imported by the
factories when a cell builds its model.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import benchbed
from benchbed import ModelSpec

TRANSFORMS = ("choice", ["UN", "L2N", "CL2N"])


def _factory(module: str, cls: str, **fixed):
    def build(**params):
        method = getattr(importlib.import_module(f"benchbed_fewshot.methods.{module}"), cls)
        return method(**fixed, **params)

    build.__name__ = f"build_{cls}"
    return build


MODELS = [
    ModelSpec(
        "protonet",
        ("episode-classifier",),
        _factory("nearest_centroid", "NearestCentroid", transform="UN"),
        "ProtoNet inference: nearest support mean, Euclidean, raw features (inductive)",
    ),
    ModelSpec(
        "simpleshot",
        ("episode-classifier",),
        _factory("nearest_centroid", "NearestCentroid"),
        "SimpleShot: nearest centroid after the UN / L2N / CL2N transform (inductive)",
        defaults={"transform": "CL2N"},
        search_space={"transform": TRANSFORMS},
    ),
    ModelSpec(
        "logreg",
        ("episode-classifier",),
        _factory("logreg", "LogisticRegression"),
        "multinomial L2-regularised logistic regression on the support set (inductive)",
        defaults={"C": 1.0, "transform": "L2N", "max_iter": 300},
        search_space={"C": ("log", 1e-2, 1e3), "transform": TRANSFORMS},
    ),
    ModelSpec(
        "knn",
        ("episode-classifier",),
        _factory("knn", "KNearestNeighbours"),
        "k-nearest support neighbours, majority vote (inductive)",
        defaults={"k": 1, "transform": "L2N"},
        search_space={"k": ("int", 1, 5), "transform": TRANSFORMS},
    ),
    ModelSpec(
        "kmeans",
        ("episode-classifier",),
        _factory("kmeans", "TransductiveKMeans"),
        "K-means over support and queries, initialised at the support prototypes (transductive)",
        defaults={"transform": "L2N", "max_iter": 50},
        search_space={"transform": TRANSFORMS},
    ),
    ModelSpec(
        "laplacianshot",
        ("episode-classifier",),
        _factory("laplacianshot", "LaplacianShot"),
        "LaplacianShot: kNN-Laplacian regularised assignments, bound updates (transductive)",
        defaults={"lam": 1.0, "knn": 3, "iterations": 20, "transform": "CL2N"},
        search_space={"lam": ("float", 0.1, 1.5), "knn": ("int", 1, 10)},
    ),
    ModelSpec(
        "tim-gd",
        ("episode-classifier",),
        _factory("tim", "TIMGD"),
        "TIM, gradient solver: support CE plus query mutual information, Adam (transductive)",
        defaults={
            "temp": 15.0,
            "ce_weight": 0.1,
            "marginal_weight": 1.0,
            "cond_weight": 0.1,
            "lr": 1e-4,
            "iterations": 1000,
            "transform": "L2N",
        },
        search_space={"cond_weight": ("float", 0.0, 1.0), "ce_weight": ("log", 0.01, 1.0)},
    ),
    ModelSpec(
        "tim-adm",
        ("episode-classifier",),
        _factory("tim", "TIMADM"),
        "TIM, alternating-direction solver: closed-form updates (transductive)",
        defaults={
            "temp": 15.0,
            "ce_weight": 0.1,
            "marginal_weight": 1.0,
            "cond_weight": 0.1,
            "alpha": 1.0,
            "iterations": 150,
            "transform": "L2N",
        },
        search_space={"cond_weight": ("float", 0.0, 1.0), "ce_weight": ("log", 0.01, 1.0)},
    ),
    ModelSpec(
        "raml",
        ("episode-classifier",),
        _factory("retrieval_augmented", "RetrievalAugmented"),
        "support set augmented with its nearest labelled texts from a held-out corpus, then SimpleShot (RAML-style, text benchmarks)",
        defaults={"neighbours": 10, "scope": "episode", "transform": "CL2N"},
        search_space={
            "neighbours": ("int", 0, 200),
            "scope": ("choice", ["class", "episode"]),
        },
    ),
    ModelSpec(
        "icl-lm",
        ("episode-classifier",),
        _factory("in_context_lm", "InContextLM"),
        "SmolLM2-135M in-context classification: support items as demonstrations, label names scored by log-likelihood (text benchmarks)",
        defaults={
            "lm": "smollm2-135m",
            "order": "random",
            "demonstrations": 0,
            "max_text_tokens": 48,
            "seed": 0,
        },
        search_space={"order": ("choice", ["random", "retrieved"])},
    ),
    ModelSpec(
        "bd-cspn",
        ("episode-classifier",),
        _factory("bdcspn", "BDCSPN"),
        "BD-CSPN: prototype rectification, cross-class shift plus pseudo-labelled queries (transductive)",
        defaults={"z": 8, "eps": 10.0, "transform": "UN"},
        search_space={"z": ("int", 0, 15), "eps": ("float", 1.0, 20.0)},
    ),
]


def all_tasks():
    from benchbed_fewshot.benchmarks import BENCHMARKS
    from benchbed_fewshot.tasks import FewShotTask

    return [FewShotTask(b, 5, k, b.n_query) for b in BENCHMARKS for k in b.shots]


@benchbed.hookimpl
def benchbed_tasks():
    return all_tasks()


@benchbed.hookimpl
def benchbed_models():
    return MODELS


@benchbed.hookimpl
def benchbed_suites():
    return sorted((Path(__file__).parent / "suites").glob("*.toml"))


@benchbed.hookimpl
def benchbed_figures(task, artifact_name, artifact):
    if artifact_name != "episode_accuracy_histogram" or not task.name.startswith("fewshot/"):
        return None
    from benchbed_fewshot.figures import histogram_svg

    return histogram_svg(artifact["counts"], title=task.name)


@benchbed.hookimpl
def benchbed_suite_figures(suite, rows):
    """Accuracy against shots for each few-shot benchmark run with more than one shot count."""
    from benchbed_fewshot.figures import accuracy_by_shots, shots_svg

    figures = []
    for (benchmark, ways), series in sorted(accuracy_by_shots(rows).items()):
        if len({p[0] for points in series.values() for p in points}) > 1:
            title = f"{benchmark}, {ways}-way"
            figures.append((f"{title}: accuracy against shots", shots_svg(title, series)))
    return figures
