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
    "on a stream whose labels are single pictures",
    methods=("prepare", "observe", "predict"),
)

_MODULE = "benchbed_continual.fewshot_stream"

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
}
