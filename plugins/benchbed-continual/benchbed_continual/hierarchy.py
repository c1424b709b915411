"""Online hierarchical label expansion (HLE; Lee et al., "Online Continual Learning on
Hierarchical Label Expansion", ICCV 2023): the stream first brings the coarse classes, later
contexts bring their fine classes; accuracy is measured at both levels along the stream.

Labels are output units of one network: fine class f is unit f, coarse class k is unit
F + k (F fine classes). Context 0 trains the coarse units, the fine contexts the fine units
(one softmax per level: the learner's per-context masks), and the task asks for a level's
prediction with `predict(x, 0)` (coarse) or `predict(x, 1)` (fine).

Two ways to label the images (the paper's "single-label" and "dual-label" scenarios, as we
read them): single-label, each training image appears once, half of each fine class's
images with the coarse label in context 0 and the other half with the fine label in its
fine context; dual-label, every image appears in context 0 with its coarse label and again
in its fine context with its fine label.
"""

from __future__ import annotations

from dataclasses import dataclass

from benchbed import Result, Score, Task
from benchbed_continual import metrics as M
from benchbed_continual.benchmarks import (
    LEARNER,
    SPLIT_PAIRS,
    Protocol,
    learner_report,
    protocol_record,
)
from benchbed_continual.learner import Experience, Setting

HLE_METRICS = ("a_last_fine", "a_last_coarse", "a_auc_fine", "a_auc_coarse")
LABELLINGS = ("single-label", "dual-label")


@dataclass(frozen=True)
class Hierarchy:
    """A two-level label tree: `parent[f]` is the coarse class of fine class f."""

    coarse_names: tuple[str, ...]
    parent: tuple[int, ...]

    def __post_init__(self):
        if sorted(set(self.parent)) != list(range(len(self.coarse_names))):
            raise ValueError("every coarse class needs at least one fine class, and no others")

    @property
    def n_fine(self) -> int:
        return len(self.parent)

    @property
    def n_coarse(self) -> int:
        return len(self.coarse_names)

    def children(self, coarse: int) -> tuple[int, ...]:
        return tuple(f for f, p in enumerate(self.parent) if p == coarse)

    def parent_units(self) -> tuple[int, ...]:
        """The output unit of each fine class's parent (coarse class k is unit F + k)."""
        return tuple(self.n_fine + p for p in self.parent)


# Fashion-MNIST labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal,
# 6 Shirt, 7 Sneaker, 8 Bag, 9 Ankle boot. Dress goes with the tops: like them it is worn
# from the shoulders and its images show a garment with a neckline and (often) sleeves, not
# legs; it is the one debatable assignment.
FASHION = Hierarchy(
    coarse_names=("tops", "bottoms", "footwear", "bags"),
    parent=(0, 1, 0, 0, 0, 2, 0, 2, 3, 2),
)

# A toy hierarchy for fast tests only: sklearn digits grouped by parity. Digits have no
# natural coarse classes; parity is arbitrary and says nothing about the images.
DIGITS_PARITY = Hierarchy(coarse_names=("even", "odd"), parent=(0, 1, 0, 1, 0, 1, 0, 1, 0, 1))

# The fine classes arrive two at a time, in the order of Split benchmarks.
FINE_CONTEXTS = SPLIT_PAIRS


@dataclass(frozen=True)
class HLESetting(Setting):
    """A Setting that also names each fine unit's parent unit and the stream's length (for
    hierarchy-aware methods)."""

    parents: tuple[int, ...] = ()
    stream_length: int = 0  # training examples in all contexts (FMS's normaliser)


@dataclass
class HLEStream:
    setting: HLESetting
    contexts: list[Experience]  # context 0: coarse labels; then the fine contexts
    test_x: object
    test_fine: object  # fine label of each test image (its coarse label follows)


def hle_stream(load, hierarchy: Hierarchy, labelling: str, protocol: Protocol, ctx) -> HLEStream:
    """The HLE stream: context 0 with coarse labels, then FINE_CONTEXTS with fine labels."""
    import torch

    if labelling not in LABELLINGS:
        raise ValueError(f"labelling must be one of {LABELLINGS}, not {labelling!r}")
    device = torch.device(ctx.device)
    x, y = (torch.as_tensor(a) for a in load("train"))
    test_x, test_y = (torch.as_tensor(a).to(device) for a in load("test"))
    F = hierarchy.n_fine
    parent_unit = torch.tensor(hierarchy.parent_units())
    rng = ctx.rng(stream=11)
    coarse_part, fine_part = [], {}
    for f in range(F):
        index = torch.as_tensor(rng.permutation(int((y == f).sum())))
        mine = (y == f).nonzero().flatten()[index]
        if labelling == "single-label":
            half = len(mine) // 2
            coarse_part.append(mine[:half])
            fine_part[f] = mine[half:]
        else:
            coarse_part.append(mine)
            fine_part[f] = mine
    coarse_index = torch.cat(coarse_part)
    contexts = [
        Experience(
            0,
            x[coarse_index].to(device),
            parent_unit[y[coarse_index]].to(device),
            tuple(range(F, F + hierarchy.n_coarse)),
        )
    ]
    for t, classes in enumerate(FINE_CONTEXTS, start=1):
        index = torch.cat([fine_part[f] for f in classes])
        contexts.append(Experience(t, x[index].to(device), y[index].to(device), classes))

    n_outputs = F + hierarchy.n_coarse
    masks = torch.zeros(len(contexts), n_outputs, dtype=torch.bool)
    masks[0, F:] = True
    masks[1:, :F] = True
    setting = HLESetting(
        scenario="class",
        n_inputs=x.shape[1],
        n_outputs=n_outputs,
        n_contexts=len(contexts),
        masks=masks,
        hidden=protocol.hidden,
        lr=protocol.lr,
        iters=len(contexts[1].x) // protocol.batch_size,  # informative: single pass
        batch_size=protocol.batch_size,
        memory=protocol.memory,
        single_pass=True,
        device=ctx.device,
        seed=ctx.seed,
        parents=hierarchy.parent_units(),
        stream_length=sum(len(e.y) for e in contexts),
    )
    return HLEStream(setting, contexts, test_x, test_y)


def level_accuracies(pred_coarse, pred_fine, fine_labels, hierarchy: Hierarchy, seen=None):
    """(coarse accuracy, fine accuracy) of class predictions at each level.

    Coarse accuracy is over every item (its truth is the parent of its fine label); fine
    accuracy over the items whose fine class is in `seen` (all when None), None if there are
    none. Predictions are class indices of their level (coarse 0..C-1, fine 0..F-1).
    """
    import numpy as np

    pred_coarse, pred_fine, fine_labels = (
        np.asarray(a).reshape(-1) for a in (pred_coarse, pred_fine, fine_labels)
    )
    if not (len(pred_coarse) == len(pred_fine) == len(fine_labels)) or not len(fine_labels):
        raise ValueError("predictions and labels must be non-empty and of one length")
    coarse_truth = np.asarray(hierarchy.parent)[fine_labels]
    coarse = float((pred_coarse == coarse_truth).mean())
    keep = np.ones(len(fine_labels), bool) if seen is None else np.isin(fine_labels, list(seen))
    fine = float((pred_fine[keep] == fine_labels[keep]).mean()) if keep.any() else None
    return coarse, fine


class HLETask(Task):
    """Online HLE: one pass over each context in small batches; every `every` steps, the
    accuracy at each level on the test images (coarse: all of them, since every coarse class
    comes first; fine: those of the fine classes seen so far). Reports A_auc (the mean of
    that curve, Koh et al. 2022) and A_last (accuracy on all test images at the end) per
    level, and stores the curves as the artifact `accuracy_curve`."""

    kind = LEARNER
    metrics = HLE_METRICS
    main_metric = "a_last_fine"

    def __init__(self, name, description, hierarchy, labelling, load, protocol, every):
        self.name = name
        self.description = description
        self.hierarchy = hierarchy
        self.labelling = labelling
        self.load = load
        self.protocol = protocol
        self.every = every

    def stream(self, ctx) -> HLEStream:
        return hle_stream(self.load, self.hierarchy, self.labelling, self.protocol, ctx)

    def predict_levels(self, model, x, batch: int = 2000):
        """Class predictions at the coarse and at the fine level, as NumPy arrays."""
        import torch

        F = self.hierarchy.n_fine
        coarse, fine = [], []
        for start in range(0, len(x), batch):
            xb = x[start : start + batch]
            coarse.append(model.predict(xb, 0) - F)
            fine.append(model.predict(xb, 1))
        return torch.cat(coarse).cpu().numpy(), torch.cat(fine).cpu().numpy()

    def evaluate(self, model, ctx) -> Result:
        stream = self.stream(ctx)
        setting = model.prepare(stream.setting)
        labels = stream.test_fine.cpu().numpy()
        curve = {"coarse": [], "fine": []}
        seen: set[int] = set()

        def monitor():
            coarse, fine = level_accuracies(
                *self.predict_levels(model, stream.test_x), labels, self.hierarchy, seen
            )
            curve["coarse"].append(coarse)
            if fine is not None:
                curve["fine"].append(fine)

        with ctx.timer.phase("train", batch_size=setting.batch_size) as train:
            for experience in ctx.progress(stream.contexts, desc=self.name):
                if experience.index > 0:
                    seen.update(experience.classes)
                steps = len(experience.x) // setting.batch_size
                with train.step(items=steps * setting.batch_size):
                    model.learn(experience, monitor=monitor, every=self.every)
        with ctx.timer.phase("inference", items=len(labels), batch_size=2000) as inference:
            with inference.step(items=len(labels)):
                pred_coarse, pred_fine = self.predict_levels(model, stream.test_x)
        parent = self.hierarchy.parent
        coarse_hits = [float(pred_coarse[i] == parent[f]) for i, f in enumerate(labels)]
        fine_hits = (pred_fine == labels).astype(float).tolist()
        return Result(
            metrics={
                "a_last_fine": Score.mean_of(fine_hits, unit="test item"),
                "a_last_coarse": Score.mean_of(coarse_hits, unit="test item"),
                "a_auc_fine": Score(
                    M.area_under_accuracy(curve["fine"]), samples=curve["fine"], unit="evaluation"
                ),
                "a_auc_coarse": Score(
                    M.area_under_accuracy(curve["coarse"]),
                    samples=curve["coarse"],
                    unit="evaluation",
                ),
            },
            artifacts={
                "accuracy_curve": {"every": self.every, **curve},
                "protocol": protocol_record(setting) | {"labelling": self.labelling},
                **learner_report(model),
            },
        )


def hle_tasks() -> list[HLETask]:
    from benchbed.data.images import load_digits, load_fashion_mnist
    from benchbed_continual.benchmarks import DIGITS_ONLINE, ONLINE

    tasks = []
    for labelling in LABELLINGS:
        tasks.append(
            HLETask(
                f"continual/hle-fashion-mnist/{labelling}",
                f"Online hierarchical label expansion on Fashion-MNIST, {labelling}: the 4 coarse "
                "classes (tops incl. dress, bottoms, footwear, bags) first, then the 10 fine "
                "classes two at a time; batches of 10, one pass, accuracy at both levels every "
                "100 steps (Lee et al. 2023)",
                FASHION,
                labelling,
                load_fashion_mnist,
                ONLINE,
                every=100,
            )
        )
    tasks.append(
        HLETask(
            "continual/hle-digits-toy/dual-label",
            "TOY, for fast tests: HLE on sklearn digits with an arbitrary parity hierarchy "
            "(even / odd first, then the digits two at a time); batches of 10, one pass, "
            "evaluation every 5 steps",
            DIGITS_PARITY,
            "dual-label",
            load_digits,
            DIGITS_ONLINE,
            every=5,
        )
    )
    return tasks
