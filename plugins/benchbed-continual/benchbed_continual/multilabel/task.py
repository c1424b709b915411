"""The multi-label class-incremental task: a learner trains on the tasks in order; after each
one its label scores on the test mosaics give mAP, CF1 and OF1 on every task seen so far and
over all seen labels, stored as matrices like the accuracy matrix.

Test images of task j: the test mosaics showing at least one of task j's classes, scored on
task j's labels; "seen": those showing at least one class seen so far, on all seen labels
(MULTI-LANE's evaluation). No task identity at inference: the learner scores every seen
label of every image.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from benchbed import Kind, Result, Score, Task
from benchbed_continual.multilabel import metrics as M
from benchbed_continual.multilabel.data import MosaicSpec, showing, task_columns

LEARNER = Kind(
    "multilabel-continual-learner",
    "prepare(setting) -> setting it follows; learn(experience) once per task, in order; "
    "scores(x) -> [n, labels seen] probabilities of the labels seen so far, in the order the "
    "tasks introduced them (no task identity)",
    methods=("prepare", "learn", "scores"),
)

METRICS = ("final_map", "average_map", "final_cf1", "final_of1")
METRIC_NAMES = ("map", "cf1", "of1")  # the order of the (mAP, CF1, OF1) triples

FASHION_NAMES = (
    "T-shirt/top", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
)  # fmt: skip


@dataclass(frozen=True)
class BaseSplit:
    """Pre-training of the backbone: `steps` Adam steps of multi-label BCE on mosaics."""

    data: str  # a name of LOADERS
    mosaic: MosaicSpec
    n_train: int
    n_test: int
    steps: int
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0  # fixed: the same backbone for every cell


@dataclass(frozen=True)
class Protocol:
    data: str
    mosaic: MosaicSpec
    tasks: tuple[tuple[int, ...], ...]  # the classes each task introduces
    base: BaseSplit
    vit: dict = field(default_factory=dict)  # ViTConfig fields besides the image shape
    n_train: int = 12000  # training mosaics, from the data set's train split
    n_test: int = 2000  # test mosaics, from its test split
    iters: int = 300  # optimiser steps per task (the learning rate is each method's)
    batch_size: int = 64


@dataclass(frozen=True)
class MultilabelSetting:
    """What a learner is told: the label columns of each task, the backbone and the budget."""

    n_labels: int
    task_labels: tuple[tuple[int, ...], ...]
    vit: Any  # ViTConfig of the backbone
    backbone: Any  # its state dict (frozen weights)
    iters: int
    batch_size: int
    device: str = "cpu"
    seed: int = 0

    def with_overrides(self, **values) -> MultilabelSetting:
        return replace(self, **{k: v for k, v in values.items() if v is not None})


@dataclass
class MultilabelExperience:
    """One task's training mosaics: `y` [n, n_labels] is 0 outside the task's columns."""

    index: int
    x: Any  # float tensor [n, pixels]
    y: Any  # float tensor [n, n_labels]
    labels: tuple[int, ...]  # the label columns this task introduces


# Mosaics of 14x14 Fashion-MNIST items (28x28 images, 49 patches of 4x4), tasks of two
# classes; the backbone learns on MNIST digit mosaics of the same size.
FASHION = Protocol(
    data="fashion-mnist",
    mosaic=MosaicSpec(classes=tuple(range(10))),
    tasks=((0, 1), (2, 3), (4, 5), (6, 7), (8, 9)),
    base=BaseSplit("mnist", MosaicSpec(classes=tuple(range(10))), 20000, 2000, steps=1500),
    vit={"patch": 4, "dim": 64, "depth": 4, "heads": 4},
)
# For fast tests: 16x16 mosaics of 8x8 sklearn digits; the backbone sees digits 0-3, the
# stream brings 4-9 two at a time.
DIGITS = Protocol(
    data="digits",
    mosaic=MosaicSpec(classes=(4, 5, 6, 7, 8, 9), item_shape=(8, 8), factor=1),
    tasks=((4, 5), (6, 7), (8, 9)),
    base=BaseSplit(
        "digits", MosaicSpec(classes=(0, 1, 2, 3), item_shape=(8, 8), factor=1), 2000, 400, 300
    ),
    vit={"patch": 4, "dim": 32, "depth": 2, "heads": 2},
    n_train=1500,
    n_test=400,
    iters=100,
    batch_size=32,
)


def load(name: str):
    """The (x, y) loader of a data set name."""
    from benchbed.data import images

    loaders = {
        "mnist": images.load_mnist,
        "fashion-mnist": images.load_fashion_mnist,
        "digits": images.load_digits,
    }
    return loaders[name]


@dataclass
class Measured:
    """After one task: (mAP, CF1, OF1) on each task so far and over all seen labels, and the
    per-label APs behind the seen mAP."""

    per_task: list[tuple[float, float, float]]
    seen: tuple[float, float, float]
    aps: list[float]


@dataclass
class Stream:
    """The train and test mosaics of a protocol (tensors) and each task's label columns."""

    train_x: Any
    train_y: Any
    test_x: Any
    test_y: Any
    columns: tuple[tuple[int, ...], ...]

    def experience(self, t: int) -> MultilabelExperience:
        """Task t: the training mosaics showing one of its classes, labelled with them only."""
        cols = list(self.columns[t])
        keep = self.train_y[:, cols].any(1)
        y = self.train_y[keep].clone()
        others = [c for c in range(y.shape[1]) if c not in cols]
        y[:, others] = 0
        return MultilabelExperience(t, self.train_x[keep], y, self.columns[t])


def build_stream(protocol: Protocol, ctx) -> Stream:
    import torch

    from benchbed_continual.multilabel.data import mosaics

    rng = ctx.rng(stream=21)
    loader = load(protocol.data)
    parts = []
    for split, n in (("train", protocol.n_train), ("test", protocol.n_test)):
        x, y, _ = mosaics(*loader(split), protocol.mosaic, n, rng)
        parts += [torch.as_tensor(x).to(ctx.device), torch.as_tensor(y).to(ctx.device)]
    return Stream(*parts, task_columns(protocol.mosaic.classes, protocol.tasks))


class MultilabelTask(Task):
    """Trains a multi-label learner task by task and fills the mAP / CF1 / OF1 matrices."""

    kind = LEARNER
    metrics = METRICS
    main_metric = "final_map"

    def __init__(self, name: str, description: str, protocol: Protocol):
        self.name = name
        self.description = description
        self.protocol = protocol

    def evaluate(self, model, ctx) -> Result:
        from benchbed_continual.multilabel.backbone import pretrained_backbone, vit_config

        p = self.protocol
        state, backbone_info = pretrained_backbone(p, load(p.base.data), ctx)
        stream = build_stream(p, ctx)
        setting = model.prepare(
            MultilabelSetting(
                n_labels=len(p.mosaic.classes),
                task_labels=stream.columns,
                vit=vit_config(p),
                backbone=state,
                iters=p.iters,
                batch_size=p.batch_size,
                device=ctx.device,
                seed=ctx.seed,
            )
        )
        T = len(stream.columns)
        steps: list[Measured] = []  # one per task, after training on it
        with ctx.timer.phase("train", batch_size=setting.batch_size) as train:
            for t in ctx.progress(range(T), desc=self.name, total=T):
                with train.step(items=setting.iters * setting.batch_size):
                    model.learn(stream.experience(t))
                if t < T - 1:
                    steps.append(self.measure(self.scores(model, stream.test_x), stream, t))
        with ctx.timer.phase("inference", items=len(stream.test_x), batch_size=500) as phase:
            steps.append(self.measure(self.scores(model, stream.test_x, phase), stream, T - 1))
        seen = {
            name: [round(step.seen[k], 6) for step in steps] for k, name in enumerate(METRIC_NAMES)
        }
        artifact = {
            **{
                f"{name}_matrix": [[round(m[k], 6) for m in step.per_task] for step in steps]
                for k, name in enumerate(METRIC_NAMES)
            },
            **{f"seen_{name}": values for name, values in seen.items()},
            "threshold": M.THRESHOLD,
            "tasks": [[p.mosaic.classes[c] for c in cols] for cols in stream.columns],
            "protocol": _protocol(p, setting),
            "backbone": backbone_info,
        }
        if hasattr(model, "cost"):
            artifact["inference_cost"] = model.cost()
        return Result(
            metrics={
                "final_map": Score.mean_of(steps[-1].aps, unit="label"),
                "average_map": Score.mean_of(seen["map"], unit="task"),
                "final_cf1": seen["cf1"][-1],
                "final_of1": seen["of1"][-1],
            },
            artifacts={"multilabel_matrices": artifact},
        )

    @staticmethod
    def scores(model, x, phase=None, batch: int = 500):
        """The model's scores of the seen labels on every image, as a NumPy array."""
        import torch

        out = []
        for xb in x.split(batch):
            if phase is None:
                out.append(torch.as_tensor(model.scores(xb)))
            else:
                with phase.step(items=len(xb)):
                    out.append(torch.as_tensor(model.scores(xb)))
        return torch.cat(out).float().cpu().numpy()

    @staticmethod
    def measure(scores, stream: Stream, t: int) -> Measured:
        """The metrics after task t, from the scores of the labels seen so far."""
        seen = [c for cols in stream.columns[: t + 1] for c in cols]
        if scores.shape != (len(stream.test_x), len(seen)):
            raise ValueError(
                f"scores(x) must be [images, labels seen] = {(len(stream.test_x), len(seen))}, "
                f"got {scores.shape}"
            )
        targets = stream.test_y.cpu().numpy()

        def three(cols):
            rows = showing(targets, cols)
            s = scores[rows][:, [seen.index(c) for c in cols]]
            y = targets[rows][:, cols]
            return M.mean_average_precision(s, y), M.class_f1(s, y), M.overall_f1(s, y)

        per_task = [three(stream.columns[j]) for j in range(t + 1)]
        rows = showing(targets, seen)
        s, y = scores[rows], targets[rows][:, seen]  # seen labels are columns in task order
        aps = M.average_precisions(s, y)
        return Measured(per_task, (sum(aps) / len(aps), M.class_f1(s, y), M.overall_f1(s, y)), aps)


def _protocol(p: Protocol, setting: MultilabelSetting) -> dict:
    return {
        "data": p.data,
        "mosaic": asdict(p.mosaic),
        "base": asdict(p.base),
        "vit": p.vit,
        "n_train": p.n_train,
        "n_test": p.n_test,
        "iters": setting.iters,
        "batch_size": setting.batch_size,
        "seed": setting.seed,
        "device": str(setting.device),
    }


def multilabel_tasks() -> list[MultilabelTask]:
    return [
        MultilabelTask(
            "continual/fashion-mosaic-multilabel/class-il",
            "Multi-label class-incremental Fashion-MNIST: 2x2 mosaics of 14x14 items labelled "
            "with the classes they show, 5 tasks of 2 classes (MLCIL protocol: a task's "
            "training mosaics carry only its labels); a small ViT pre-trained on MNIST digit "
            "mosaics and frozen; mAP / CF1 / OF1 after every task",
            FASHION,
        ),
        MultilabelTask(
            "continual/digits-mosaic-multilabel/class-il",
            "Multi-label class-incremental sklearn digits, for fast tests: 2x2 mosaics of 8x8 "
            "digits 4-9, 3 tasks of 2 digits, a tiny ViT pre-trained on mosaics of digits 0-3",
            DIGITS,
        ),
    ]
