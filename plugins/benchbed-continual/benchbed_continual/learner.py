"""The shared training loop every method is built on, and what a task hands a learner.

A method is a `Learner` subclass that overrides a few hooks (in the spirit of Avalanche's
strategy plugins): `before_context`, `batch_loss`, `after_backward`, `after_step`,
`after_context`, and for a different classifier `predict`. Data stay tensors on the device;
batches are drawn by index, never sample by sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from benchbed import BenchbedError

SCENARIOS = ("task", "domain", "class")


@dataclass(frozen=True)
class Setting:
    """The benchmark's protocol: what the network looks like and how long it trains.

    `masks[c]` (bool, one row per context, one column per output unit) says which output
    units context c uses: its own head in task-IL, every unit in domain- and class-IL.
    """

    scenario: str  # "task", "domain" or "class" incremental
    n_inputs: int
    n_outputs: int
    n_contexts: int
    masks: Any  # torch.BoolTensor [n_contexts, n_outputs]
    hidden: int = 400
    lr: float = 1e-3
    iters: int = 2000  # optimiser steps per context
    single_pass: bool = False  # online: one pass over each context instead of `iters` steps
    batch_size: int = 128
    memory: int = 1100  # examples a replay method may store, the same for every one of them
    device: str = "cpu"
    seed: int = 0
    backbone: str = "mlp"  # "mlp" (`hidden` units, 2 layers) or "vit" (`vit.ViT`)
    image_shape: tuple[int, int, int] | None = None  # (channels, height, width), for the ViT
    vit: dict | None = None  # other `ViTConfig` fields (patch, dim, depth, heads, mlp_ratio)
    # Whose tuned regularisation strengths EWC, online EWC and SI default to (their tables):
    # "hsu", "van-de-ven-split-mnist" or "van-de-ven-permuted-mnist".
    strengths: str = "hsu"
    optimizer: str = "adam"  # "adam", or "sgd" (plain, no momentum)
    # A-GEM's episodic memory keeps this many examples of every context when set (it grows
    # with the contexts, as in Chaudhry et al. 2019); None: `memory` shared among them.
    memory_per_context: int | None = None

    def with_overrides(self, **values) -> Setting:
        return replace(self, **{k: v for k, v in values.items() if v is not None})


@dataclass
class Experience:
    """One context's training data: `y` is already in the scenario's label space."""

    index: int
    x: Any  # float tensor [n, n_inputs] on the device
    y: Any  # long tensor [n]
    classes: tuple[int, ...]  # the labels this context introduces


def mlp(n_inputs: int, hidden: int, n_outputs: int, layers: int = 2):
    """A fully connected ReLU network; `net[:-1]` is the feature extractor (iCaRL uses it)."""
    import torch.nn as nn

    sizes = [n_inputs] + [hidden] * layers
    blocks = [m for a, b in zip(sizes, sizes[1:]) for m in (nn.Linear(a, b), nn.ReLU())]
    return nn.Sequential(*blocks, nn.Linear(hidden, n_outputs))


BACKBONES = ("mlp", "vit")
OPTIMIZERS = ("adam", "sgd")


def make_optimizer(setting: Setting, parameters):
    """The protocol's optimiser over `parameters`, at the protocol's learning rate."""
    import torch

    if setting.optimizer == "adam":
        return torch.optim.Adam(parameters, lr=setting.lr)
    if setting.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=setting.lr)
    raise BenchbedError(f"unknown optimizer {setting.optimizer!r}: choose one of {OPTIMIZERS}")


def build_network(setting: Setting):
    """The protocol's network: the MLP, or a small ViT over `setting.image_shape` whose
    `features(x)` feeds one linear output layer (`net.head`)."""
    if setting.backbone == "mlp":
        return mlp(setting.n_inputs, setting.hidden, setting.n_outputs)
    if setting.backbone == "vit":
        from benchbed_continual.vit import ViT, ViTConfig

        if setting.image_shape is None:
            raise BenchbedError("the ViT backbone needs the protocol's image_shape (c, h, w)")
        config = ViTConfig(image_shape=tuple(setting.image_shape), **(setting.vit or {}))
        return ViT(config, setting.n_outputs)
    raise BenchbedError(f"unknown backbone {setting.backbone!r}: choose one of {BACKBONES}")


class Learner:
    """Naive fine-tuning: the shared loop with no protection against forgetting.

    The constructor's arguments override the task's protocol when given (None keeps it).
    """

    name = "naive"

    def __init__(
        self, lr: float | None = None, iters: int | None = None, batch_size: int | None = None
    ):
        self.overrides = {"lr": lr, "iters": iters, "batch_size": batch_size}

    # -- the interface a continual-learning task uses ------------------------------------

    def prepare(self, setting: Setting) -> Setting:
        """Build the network and optimiser for `setting`; return the setting it will follow."""
        import torch

        self.setting = setting.with_overrides(**self.overrides)
        self.device = torch.device(self.setting.device)
        torch.manual_seed(self.setting.seed)
        self.generator = torch.Generator().manual_seed(self.setting.seed + 1)
        self.net = build_network(self.setting).to(self.device)
        self.masks = self.setting.masks.to(self.device)
        self.optimizer = make_optimizer(self.setting, self.net.parameters())
        self.seen = 0  # contexts trained so far
        self.setup()
        return self.setting

    def learn(self, experience: Experience, monitor=None, every: int = 0) -> None:
        """Train on one context. `monitor()`, when given, is called every `every` steps: the
        online benchmarks evaluate along the stream with it."""
        self.net.train()
        self.before_context(experience)
        x, y, c = self.training_data(experience)
        for step, index in enumerate(self.batches(len(x))):
            self.step = step
            self.optimizer.zero_grad()
            loss = self.batch_loss(x[index], y[index], c[index], experience)
            loss.backward()
            self.after_backward(experience)
            self.optimizer.step()
            self.after_step()
            if monitor is not None and (step + 1) % every == 0:
                monitor()
        self.net.eval()
        self.after_context(experience)
        self.seen += 1

    def predict(self, x, context: int):
        """Labels for `x`; `context` is used only where the scenario gives it (task-IL)."""
        import torch

        with torch.no_grad():
            return self.logits(x, self.context_ids(context, len(x))).argmax(1)

    # -- hooks ------------------------------------------------------------------------------

    def setup(self) -> None:
        """Called at the end of `prepare`: create method state."""

    def before_context(self, experience: Experience) -> None:
        pass

    def training_data(self, experience: Experience):
        """(x, y, context ids) to draw this context's batches from."""
        return experience.x, experience.y, self.context_ids(experience.index, len(experience.x))

    def batch_loss(self, x, y, c, experience: Experience):
        import torch.nn.functional as F

        return F.cross_entropy(self.logits(x, c), y) + self.penalty()

    def penalty(self):
        return 0.0

    def after_backward(self, experience: Experience) -> None:
        pass

    def after_step(self) -> None:
        pass

    def after_context(self, experience: Experience) -> None:
        pass

    # -- helpers shared by methods ----------------------------------------------------------

    def logits(self, x, c):
        """Network outputs with the units that context c does not use masked out (task-IL heads)."""
        return self.net(x).masked_fill(~self.masks[c], float("-inf"))

    def context_ids(self, context: int, n: int):
        import torch

        return torch.full((n,), context, dtype=torch.long, device=self.device)

    def batches(self, n: int, iters: int | None = None, batch_size: int | None = None):
        """Index tensors of `iters` mini-batches: shuffled passes over n items, as epochs."""
        import torch

        size = min(batch_size or self.setting.batch_size, n)
        if iters is None:
            iters = n // size if self.setting.single_pass else self.setting.iters
        per_pass = max(1, n // size)  # drop the ragged last batch of each pass
        order = None
        for step in range(iters):
            if step % per_pass == 0:
                order = torch.randperm(n, generator=self.generator).to(self.device)
            start = (step % per_pass) * size
            yield order[start : start + size]

    def sample(self, n: int, k: int):
        """k distinct random indices below n (all of them if k >= n)."""
        import torch

        return torch.randperm(n, generator=self.generator)[: min(k, n)].to(self.device)

    def parameters(self) -> dict:
        return dict(self.net.named_parameters())

    def first_pass(self, experience: Experience) -> bool:
        """Whether the current step is still in the first pass over the context's data (replay
        methods add each example to their memory once, as if it arrived in a stream)."""
        return self.step < max(1, len(experience.x) // self.setting.batch_size)


def epochs_to_iters(epochs: float, n: int, batch_size: int) -> int:
    """The number of optimiser steps that `epochs` passes over n items take."""
    return max(1, math.ceil(epochs * n / batch_size))
