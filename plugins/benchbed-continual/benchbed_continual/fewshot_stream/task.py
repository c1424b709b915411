"""The continual few-shot task: many seeded streams per cell, then many instance streams.

For each stream the learner is prepared afresh, observes the support sets in order and
predicts the target set; `cfsl_accuracy` is the mean over streams of the target-set
accuracy. For each instance stream it observes single pictures of one category, each its own
label, then predicts three copies of those pictures: unchanged, with a blanked square, and
with Gaussian noise; `instance_accuracy_{clean,occluded,noisy}` are the means over instance
streams. Every model sees the same streams and corruptions for a given seed, so the
per-stream samples pair across models.

A model that defines `meta_train(source, setting)` is meta-trained once per cell before the
streams (timer phase "meta-train"): `source` (`MetaTrainSource`) holds only the data set's
base classes, features of the same frozen backbone, and samples training streams with the
task's own protocol from a random stream of its own, so the evaluation streams, and every
other model's numbers, are the same whether or not a model meta-trains.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from benchbed import BenchbedError, Result, Score, Task
from benchbed_continual.fewshot_stream import KIND
from benchbed_continual.fewshot_stream.corruptions import add_noise, occlude
from benchbed_continual.fewshot_stream.sampler import (
    StreamIndex,
    StreamProtocol,
    sample_instance_stream,
    sample_stream,
)

CONDITIONS = ("clean", "occluded", "noisy")
METRICS = ("cfsl_accuracy", *(f"instance_accuracy_{c}" for c in CONDITIONS))


@dataclass(frozen=True)
class InstanceTest:
    n_support_sets: int = 10  # NSS
    k_shot: int = 2  # pictures per support set
    occlusion: int = 16  # side of the blanked square, in pixels
    noise: float = 0.3  # sigma of the Gaussian noise on [0, 1] pixel values


@dataclass(frozen=True)
class StreamSetting:
    """What prepare() is told about a stream."""

    n_features: int
    n_classes: int  # the stream's labels are 0..n_classes-1
    seed: int
    device: str


@dataclass(frozen=True)
class TrainingStream:
    """A meta-training stream: support sets in order and the labelled target set (tensors on
    the cell's device); `index` says which base items and classes it drew."""

    support: tuple[tuple[Any, Any], ...]  # ((x, y), ...) one pair per support set
    target: tuple[Any, Any]  # (x, y)
    index: StreamIndex

    @property
    def n_classes(self) -> int:
        return self.index.n_classes


class MetaTrainSource:
    """What `meta_train(source, setting)` may learn from: the base classes only.

    `features`, `labels`, `classes`: the base items (features by the task's frozen backbone,
    on the cell's device), their data-set labels and the base classes; `protocol`: the task's
    stream protocol; `sample()` draws one training stream with that protocol, as the task
    draws its evaluation streams, from a generator that the evaluation does not use.
    """

    def __init__(self, features, labels, classes, protocol: StreamProtocol, rng) -> None:
        self.features, self.labels, self.classes = features, np.asarray(labels), tuple(classes)
        self.protocol, self.rng = protocol, rng

    def sample(self) -> TrainingStream:
        import torch

        index = sample_stream(self.labels, self.classes, self.protocol, self.rng)
        device = self.features.device

        def pair(items, labels):
            return (
                self.features[torch.as_tensor(items, device=device)],
                torch.as_tensor(labels, dtype=torch.long, device=device),
            )

        return TrainingStream(
            tuple(pair(i, y) for i, y in zip(index.support, index.support_labels)),
            pair(index.target, index.target_labels),
            index,
        )


def accuracy(predicted, labels) -> float:
    """Fraction of predictions equal to the labels (one stream's target-set accuracy)."""
    predicted, labels = np.asarray(predicted), np.asarray(labels)
    if predicted.shape != labels.shape or not len(labels):
        raise BenchbedError(f"cannot score {predicted.shape} predictions of {labels.shape} labels")
    return float((predicted == labels).mean())


class ContinualFewShotTask(Task):
    kind = KIND
    metrics = METRICS
    main_metric = "cfsl_accuracy"

    def __init__(
        self,
        name: str,
        description: str,
        load: Callable,  # ctx -> data.StreamData
        protocol: StreamProtocol,
        instance: InstanceTest,
        streams: int,
        instance_streams: int,
    ):
        self.name, self.load = name, load
        self.protocol, self.instance = protocol, instance
        self.streams, self.instance_streams = streams, instance_streams
        p = protocol
        self.description = (
            f"{description}: {streams} streams of NSS={p.n_support_sets} support sets, "
            f"{p.n_way}-way {p.k_shot}-shot, CCI={p.class_change_interval}, {p.n_query} target "
            f"items per class and set; {instance_streams} instance streams of "
            f"{instance.n_support_sets} x {instance.k_shot} pictures (occluding square "
            f"{instance.occlusion} px, noise sigma {instance.noise})"
        )

    def evaluate(self, model, ctx) -> Result:
        import torch

        if ctx.split != "test":
            raise BenchbedError(f"task '{self.name}' has only a 'test' split")
        meta_train = getattr(model, "meta_train", None)
        with ctx.timer.phase("features"):
            data = self.load(ctx)
            if meta_train is not None:
                base = torch.as_tensor(data.base_features, dtype=torch.float32, device=ctx.device)
        features = torch.as_tensor(data.features, dtype=torch.float32, device=ctx.device)
        if meta_train is not None:
            # streams 3 and 4 are the meta-learner's own: streams 0-2 stay as they were
            source = MetaTrainSource(
                base, data.base_labels, data.base_classes, self.protocol, ctx.rng(stream=3)
            )
            seed = int(ctx.rng(stream=4).integers(2**31))
            setting = StreamSetting(
                features.shape[1], self.protocol.n_classes, seed, str(ctx.device)
            )
            with ctx.timer.phase("meta-train"):
                meta_train(source, setting)
        draw, corruption = ctx.rng(stream=0), ctx.rng(stream=2)
        # one model seed per stream (its head's initialisation, its buffer's sampling)
        model_seeds = ctx.rng(stream=1).integers(2**31, size=self.streams + self.instance_streams)
        scores = {name: [] for name in METRICS}
        with (
            ctx.timer.phase("train") as train,
            ctx.timer.phase("inference") as inference,
        ):
            run = _Runner(model, features, ctx.device, train, inference)
            for s in ctx.progress(range(self.streams), desc=self.name, total=self.streams):
                index = sample_stream(data.labels, data.classes, self.protocol, draw)
                run.stream(index, int(model_seeds[s]))
                predicted = run.predict(features[torch.as_tensor(index.target, device=ctx.device)])
                scores["cfsl_accuracy"].append(accuracy(predicted, index.target_labels))
            for s in ctx.progress(range(self.instance_streams), desc="instance test"):
                index = sample_instance_stream(
                    data.labels,
                    data.classes,
                    self.instance.n_support_sets,
                    self.instance.k_shot,
                    draw,
                )
                run.stream(index, int(model_seeds[self.streams + s]))
                for condition, x in self.copies(data, index, corruption).items():
                    predicted = run.predict(torch.as_tensor(x, device=ctx.device))
                    scores[f"instance_accuracy_{condition}"].append(
                        accuracy(predicted, index.target_labels)
                    )
        return Result(
            metrics={name: Score.mean_of(v, unit="stream") for name, v in scores.items()},
            artifacts={
                "protocol": {
                    **asdict(self.protocol),
                    "streams": self.streams,
                    "instance": asdict(self.instance),
                    "instance_streams": self.instance_streams,
                    "data": data.info,
                }
            },
        )

    def copies(self, data, index: StreamIndex, rng: np.random.Generator) -> dict:
        """Features of the instance target pictures: clean, occluded, noisy."""
        pictures = data.images[index.target]
        return {
            "clean": data.features[index.target],
            "occluded": data.embed(
                occlude(pictures, data.shape, self.instance.occlusion, data.background, rng)
            ),
            "noisy": data.embed(add_noise(pictures, self.instance.noise, rng)),
        }


class _Runner:
    """Feeds one stream's support sets to the model, timing observe() and predict()."""

    def __init__(self, model, features, device, train, inference):
        self.model, self.features, self.device = model, features, device
        self.train, self.inference = train, inference

    def stream(self, index: StreamIndex, seed: int) -> None:
        import torch

        self.model.prepare(
            StreamSetting(self.features.shape[1], index.n_classes, seed, str(self.device))
        )
        for items, labels in zip(index.support, index.support_labels):
            x = self.features[torch.as_tensor(items, device=self.device)]
            y = torch.as_tensor(labels, dtype=torch.long, device=self.device)
            with self.train.step(items=len(items)):
                self.model.observe(x, y)

    def predict(self, x) -> np.ndarray:
        with self.inference.step(items=len(x)):
            predicted = self.model.predict(x)
        return predicted.cpu().numpy()
