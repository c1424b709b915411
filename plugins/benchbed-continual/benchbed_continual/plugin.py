"""The entry point of benchbed-continual: the hooks benchbed calls.

Nothing here imports torch: methods are imported when a model is built, data when a task runs.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import benchbed
from benchbed import HIGHER, LOWER, Metric, ModelSpec

PROTOCOL = {"lr": None, "iters": None, "batch_size": None}  # None: the task's protocol

# name -> (module:class, description, its own parameters with defaults)
METHODS = {
    "naive": ("naive:Naive", "fine-tuning on each context in turn (lower bound)", {}),
    "joint": ("joint:Joint", "trains on all contexts seen so far (upper bound)", {}),
    "ewc": (
        "ewc:EWC",
        "elastic weight consolidation (Kirkpatrick et al. 2017); lambda None = Hsu et al.'s value",
        {"ewc_lambda": None},
    ),
    "online-ewc": (
        "ewc:OnlineEWC",
        "online EWC (Schwarz et al. 2018): one running Fisher, decay gamma",
        {"ewc_lambda": None, "gamma": 1.0},
    ),
    "si": (
        "si:SI",
        "synaptic intelligence (Zenke et al. 2017); c None = Hsu et al.'s value",
        {"si_c": None, "xi": 0.1},
    ),
    "lwf": (
        "lwf:LwF",
        "learning without forgetting (Li & Hoiem 2016)",
        {"temperature": 2.0, "lwf_lambda": 1.0},
    ),
    "replay": (
        "replay:Replay",
        "experience replay with a reservoir buffer (Chaudhry et al. 2019)",
        {"memory": None},
    ),
    "agem": (
        "agem:AGEM",
        "averaged gradient episodic memory (Chaudhry et al. 2019)",
        {"memory": None, "reference_batch": 256},
    ),
    "icarl": (
        "icarl:ICaRL",
        "iCaRL (Rebuffi et al. 2017): herding, nearest mean of exemplars",
        {"memory": None},
    ),
    "derpp": (
        "derpp:DERpp",
        "dark experience replay++ (Buzzega et al. 2020)",
        {"memory": None, "alpha": 0.2, "beta": 1.0},
    ),
    "tame": (
        "tame:TAME",
        "task-agnostic multiple experts (Zhu et al. 2022, as the authors' code runs it): "
        "loss-jump detection, a pruned selector network",
        {
            "memory": None,
            "window": 35,
            "smoothing": 0.2,
            "sds": 3.0,
            "min_sd": 0.005,
            "selector_epochs": 200,
            "prune": 0.5,
            "prune_epochs": 200,
        },
    ),
    "fast-slow": (
        "fastslow:FastSlow",
        "fast/slow weights with two-step consolidation (Wang et al. 2021)",
        {"fast_lambda": None, "slow_rate": 0.5},
    ),
    "hle-replay": (
        "hle_replay:HLEReplay",
        "PL-FMS (Lee et al. 2023): replay with hierarchy-aware pseudo-labels, an importance-based "
        "class-balanced memory and flexible memory sampling; hierarchical tasks only; "
        "pseudo_labels / fms = false and discard = random are the ablations",
        {
            "memory": None,
            "refresh": 100,
            "pseudo_labels": True,
            "fms": True,
            "discard": "importance",
        },
    ),
    "gca-cfdc": (
        "gca_cfdc:GCACFDC",
        "gated class-attention + cascaded feature drift compensation (Cotogni et al. 2023): "
        "exemplar-free, ViT tasks only; gated / drift_compensation = false are the ablations",
        {
            "gated": True,
            "drift_compensation": True,
            "smax": 800.0,
            "lambda_gate": 0.05,
            "lambda_drift": 0.001,
        },
    ),
}


def _factory(target: str):
    """A builder for "module:Class"; a bare module name is one of `benchbed_continual.methods`."""
    module, cls = target.split(":")
    path = module if "." in module else f"benchbed_continual.methods.{module}"

    def build(**params):
        return getattr(importlib.import_module(path), cls)(**params)

    build.__name__ = f"build_{module}"
    return build


@benchbed.hookimpl
def benchbed_tasks():
    from benchbed_continual.benchmarks import all_tasks

    return all_tasks()


def _specs(methods: dict, kind: str, protocol: dict = PROTOCOL) -> list[ModelSpec]:
    """Model specs of `kind`; `protocol` holds the training parameters every method shares."""
    specs = []
    for name, (target, description, own) in methods.items():
        defaults = {**own, **protocol}
        specs.append(
            ModelSpec(
                name,
                kinds=(kind,),
                factory=_factory(target),
                description=description,
                defaults=defaults,
                search_space={"lr": ("log", 1e-4, 1e-2)} if "lr" in defaults else {},
            )
        )
    return specs


@benchbed.hookimpl
def benchbed_models():
    from benchbed_continual.fewshot_stream import METHODS as FEWSHOT_STREAM
    from benchbed_continual.multilabel.methods import METHODS as MULTILABEL
    from benchbed_continual.multilabel.methods import PROTOCOL as MULTILABEL_PROTOCOL

    return (
        _specs(METHODS, "continual-learner")
        + _specs(MULTILABEL, "multilabel-continual-learner", MULTILABEL_PROTOCOL)
        + _specs(FEWSHOT_STREAM, "continual-few-shot-learner", {})
    )


@benchbed.hookimpl
def benchbed_metrics():
    return [
        Metric("average_accuracy", HIGHER, "mean accuracy over all contexts after the last one"),
        Metric(
            "average_incremental_accuracy",
            HIGHER,
            "mean over steps of the accuracy on the contexts seen so far (Rebuffi et al. 2017)",
        ),
        Metric(
            "forgetting",
            LOWER,
            "best earlier accuracy minus final accuracy, per context (Chaudhry et al. 2018)",
        ),
        Metric(
            "backward_transfer",
            HIGHER,
            "final minus just-trained accuracy (Lopez-Paz & Ranzato 2017)",
        ),
        Metric(
            "forward_transfer",
            HIGHER,
            "accuracy on a context before training it, minus a random init's (Lopez-Paz & Ranzato 2017)",
        ),
        Metric(
            "intransigence",
            LOWER,
            "joint learner's accuracy minus this learner's, on each context just trained (Chaudhry et al. 2018)",
        ),
        Metric(
            "a_auc",
            HIGHER,
            "online: mean accuracy on the data seen so far, evaluated along the stream (Koh et al. 2022)",
        ),
        Metric("a_last", HIGHER, "online: accuracy on all test data at the end of the stream"),
        Metric(
            "a_last_fine", HIGHER, "hierarchical: fine-level accuracy on all test data at the end"
        ),
        Metric(
            "a_last_coarse",
            HIGHER,
            "hierarchical: coarse-level accuracy on all test data at the end",
        ),
        Metric(
            "a_auc_fine",
            HIGHER,
            "hierarchical: A_auc of fine-level accuracy on the fine classes seen so far",
        ),
        Metric(
            "a_auc_coarse", HIGHER, "hierarchical: A_auc of coarse-level accuracy along the stream"
        ),
        Metric("final_map", HIGHER, "multi-label: mAP over all labels after the last task"),
        Metric(
            "average_map",
            HIGHER,
            "multi-label: mean over tasks of the mAP on the labels seen so far",
        ),
        Metric("final_cf1", HIGHER, "multi-label: per-class F1 (CF1) over all labels at the end"),
        Metric("final_of1", HIGHER, "multi-label: overall F1 (OF1) over all labels at the end"),
        Metric(
            "cfsl_accuracy",
            HIGHER,
            "continual few-shot: target-set accuracy after a stream's last support set, mean "
            "over streams (Antoniou et al. 2020)",
        ),
        Metric(
            "instance_accuracy_clean",
            HIGHER,
            "continual few-shot instance test: accuracy on the stream's own pictures, each its "
            "own label (Kowadlo et al. 2022), mean over streams",
        ),
        Metric(
            "instance_accuracy_occluded",
            HIGHER,
            "continual few-shot instance test, the pictures with a blanked square",
        ),
        Metric(
            "instance_accuracy_noisy",
            HIGHER,
            "continual few-shot instance test, the pictures with Gaussian noise",
        ),
    ]


@benchbed.hookimpl
def benchbed_suites():
    return sorted((Path(__file__).parent / "suites").glob("*.toml"))


@benchbed.hookimpl
def benchbed_figures(task, artifact_name, artifact):
    if artifact_name != "accuracy_matrix" or not str(getattr(task, "name", "")).startswith(
        "continual/"
    ):
        return None
    from benchbed_continual.figures import accuracy_matrix_svg

    return accuracy_matrix_svg(artifact["R"], title=f"{task.name}: accuracy matrix")
