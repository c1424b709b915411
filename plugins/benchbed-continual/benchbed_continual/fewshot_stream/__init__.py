"""Continual few-shot learning (Antoniou et al. 2020) with the instance test of Kowadlo et al.
(2022): streams of few-shot support sets, then a target set of every class seen, and streams
whose "classes" are single pictures of one category, recognised again clean, occluded and
noisy.

This module is imported when the plugin registers, so it holds only torch-free metadata: the
kind and the methods (name -> (module:Class, description, parameters with defaults)).
"""

from __future__ import annotations

from benchbed import Kind

KIND = Kind(
    "continual-few-shot-learner",
    "one stream at a time: prepare(setting) starts a new stream (forgetting any earlier one; "
    "setting.n_features, setting.n_classes = labels 0..n_classes-1 the stream may use, "
    "setting.seed, setting.device); observe(x, y) once per support set, in order (x: feature "
    "tensor [n, n_features], y: stream labels); predict(x) -> labels after the last support set. "
    "No set index or task identity is given at prediction. The instance test is the same calls "
    "on a stream whose labels are single pictures. Optional: meta_train(source, setting), "
    "called once per cell before the streams if the model defines it; source.sample() draws "
    "training streams (support sets and a labelled target set) of the task's protocol from the "
    "base classes only, source.features/labels/classes are the base items",
    methods=("prepare", "observe", "predict"),
)

_MODULE = "benchbed_continual.fewshot_stream"

# MAML++'s defaults: a clip-art cell's meta-training takes minutes on one CPU thread
MAML_DEFAULTS = {
    "meta_iterations": 1000,
    "meta_batch": 4,
    "meta_lr": 0.001,
    "steps": 5,
    "inner_lr": 0.1,
    "hidden": 256,
    "first_order_fraction": 0.33,
    "msl_fraction": 0.1,
}

METHODS = {
    "cfsl-finetune": (
        f"{_MODULE}.finetune:FineTune",
        "a linear head on the frozen pretrained backbone, fine-tuned on each support set in turn "
        "(Antoniou et al.'s Pretrain+Tune with the backbone frozen)",
        {"lr": 0.01, "steps": 50},
    ),
    "cfsl-finetune-replay": (
        f"{_MODULE}.replay:FineTuneReplay",
        "cfsl-finetune that also replays earlier support examples from a reservoir buffer "
        "(Kowadlo et al.'s replay variant)",
        {"lr": 0.01, "steps": 50, "memory": 100, "replay_batch": 32},
    ),
    "cfsl-protonet": (
        f"{_MODULE}.protonet:ProtoNet",
        "prototypes (class means of the backbone's features) accumulated over the stream; "
        "nearest prototype by squared Euclidean distance (Snell et al. 2017)",
        {},
    ),
    "cfsl-maml++": (
        f"{_MODULE}.maml:MAMLPlusPlus",
        "MAML++ (Antoniou et al. 2019) on a one-hidden-layer head over the frozen features, "
        "meta-trained on CFSL streams of the base classes: LSLR, multi-step loss, "
        "derivative-order annealing, cosine-annealed meta learning rate; the inner loop runs "
        "through the support sets in order",
        MAML_DEFAULTS,
    ),
    "cfsl-sca": (
        f"{_MODULE}.sca:SelfCritiqueAdapt",
        "SCA (Antoniou & Storkey 2019): cfsl-maml++ plus a meta-learned critic whose loss on "
        "the unlabelled target set the head descends before predicting",
        {**MAML_DEFAULTS, "critic_steps": 1, "critic_hidden": 32},
    ),
}
