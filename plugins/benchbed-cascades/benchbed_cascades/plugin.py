"""benchbed entry point of the cascades plugin: tasks, deferral rules, metrics, suites, figures.

Kept light: numpy, scikit-learn, torch and transformers load only when a cell runs.
"""

from __future__ import annotations

from pathlib import Path

import benchbed
from benchbed import HIGHER, LOWER, Metric, ModelSpec

KINDS = ("deferral-rule",)
MLP = {"hidden": 64, "l2": 1e-2, "max_iter": 500}
MLP_SPACE = {"hidden": ("int", 8, 256), "l2": ("log", 1e-5, 1.0)}


def chow_sum():
    from benchbed_cascades.rules import ChowSum

    return ChowSum()


def chow_average():
    from benchbed_cascades.rules import ChowAverage

    return ChowAverage()


def chow_quantile(alpha=0.0):
    from benchbed_cascades.rules import ChowQuantile

    return ChowQuantile(alpha)


def _post_hoc(features):
    def build(hidden=64, l2=1e-2, max_iter=500, pca=0):
        from benchbed_cascades.rules import PostHoc

        return PostHoc(features, hidden=hidden, l2=l2, max_iter=max_iter, pca=pca)

    return build


def random_rule():
    from benchbed_cascades.rules import Random

    return Random()


def oracle_rule():
    from benchbed_cascades.rules import Oracle

    return Oracle()


@benchbed.hookimpl
def benchbed_tasks():
    from benchbed_cascades.tasks import all_tasks

    return all_tasks()


@benchbed.hookimpl
def benchbed_models():
    rule = "Gupta et al. (ICLR 2024): "
    post_hoc = "an MLP trained on the training split to predict q_large - q_small, from "
    return [
        ModelSpec("chow-sum", KINDS, chow_sum, rule + "defer the lowest sequence log-probability"),
        ModelSpec(
            "chow-average",
            KINDS,
            chow_average,
            rule + "defer the lowest mean token log-probability",
        ),
        ModelSpec(
            "chow-quantile",
            KINDS,
            chow_quantile,
            rule + "defer the lowest alpha-quantile of token probabilities (alpha=0: the minimum)",
            defaults={"alpha": 0.0},
            search_space={"alpha": ("float", 0.0, 1.0)},
        ),
        ModelSpec(
            "post-hoc-quantile",
            KINDS,
            _post_hoc("quantile"),
            rule + post_hoc + "21 token-probability quantiles",
            defaults={**MLP, "pca": 0},
            search_space=MLP_SPACE,
        ),  # fmt: skip
        ModelSpec(
            "post-hoc-embed-1",
            KINDS,
            _post_hoc("embed-1"),
            rule + post_hoc + "the quantiles and the small model's final-layer embedding",
            defaults={**MLP, "pca": 0},
            search_space={**MLP_SPACE, "pca": ("int", 0, 64)},
        ),  # fmt: skip
        ModelSpec(
            "post-hoc-embed-1+2",
            KINDS,
            _post_hoc("embed-1+2"),
            rule + post_hoc + "the quantiles, the small model's embedding and the large model's "
            "middle-layer embedding (its cost is charged to every question)",
            defaults={**MLP, "pca": 0},
            search_space={**MLP_SPACE, "pca": ("int", 0, 64)},
        ),  # fmt: skip
        ModelSpec(
            "random-deferral", KINDS, random_rule, "reference: defer in a random order (seeded)"
        ),
        ModelSpec(
            "oracle-deferral",
            KINDS,
            oracle_rule,
            "reference: defer where the large model is right and the small wrong (uses gold labels)",
        ),
    ]


@benchbed.hookimpl
def benchbed_metrics():
    return [
        Metric("auc_df", HIGHER, "area under the deferral curve (quality against deferral rate)"),
        Metric(
            "rel_improvement",
            HIGHER,
            "(AUC-DF - AUC_random) / AUC_random, AUC_random = (q_small + q_large) / 2",
        ),
        Metric("quality_small", HIGHER, "quality of the small model alone on the test questions"),
        Metric("quality_large", HIGHER, "quality of the large model alone on the test questions"),
        Metric(
            "quality_oracle",
            HIGHER,
            "best quality any deferral rule could reach (oracle curve's peak)",
        ),
        Metric(
            "deferral_to_match_large",
            LOWER,
            "smallest deferral rate at which the cascade matches the large model",
        ),
        Metric(
            "latency_to_match_large_ms",
            LOWER,
            "mean measured latency per question at that deferral rate",
        ),
    ]


@benchbed.hookimpl
def benchbed_suites():
    return sorted((Path(__file__).parent / "suites").glob("*.toml"))


@benchbed.hookimpl
def benchbed_figures(task, artifact_name, artifact):
    if not str(getattr(task, "name", "")).startswith("cascades/") or not isinstance(artifact, dict):
        return None
    from benchbed_cascades import figures

    if artifact_name == "deferral_curve":
        return figures.deferral_curve_svg(task.name, artifact)
    if artifact_name == "cost_curve":
        return figures.cost_curve_svg(task.name, artifact)
    return None
