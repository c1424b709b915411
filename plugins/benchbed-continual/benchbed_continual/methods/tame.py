"""TAME: task-agnostic continual learning with multiple experts (Zhu, Majzoubi, Jain &
Choromanska 2022, arXiv:2210.03869), as the authors' code (HaoranZhuExplorer/TAME,
`train.py` and `utils_.py`) runs it on MNIST.

The learner is never told where contexts change. One expert network trains at a time.
Every incoming batch is first scored by every expert (its loss, before any training on
the batch), and each expert keeps an exponentially smoothed loss (factor `smoothing`) over
all the batches it has scored. The training expert's threshold is the mean plus `sds`
standard deviations (at least `min_sd`) of its window of the last `window` losses on the
batches it trained on; the window starts with log(outputs), the loss of a uniform guess.
When the training expert's smoothed loss exceeds its threshold, the learner switches: to
the first expert (in order of creation) whose loss on the batch, smoothed with the
smoothed losses of the batches it trained on, is under the threshold it had when it last
trained, or else to a new expert. The batch then trains the chosen expert.

Every example enters a class-balanced buffer (a uniform sample of each label's stream
examples, `memory` // outputs per label) with the index of the expert training when it
arrived. Before the learner predicts, a selector network is trained from scratch on that
buffer (`selector_epochs` epochs of SGD, lr 0.1, momentum 0.9, weight decay 5e-4, batches
of 128), then pruned: the `prune` fraction of its weights smallest in magnitude, over all
layers together, is set to zero for good, and the rest fine-tuned for `prune_epochs` epochs
(SGD lr 1e-3, momentum 0.9, weight decay 1e-4, lr x 0.1 at half and three quarters of
them). The selector routes each test input to one expert.

Departures from the authors' code, each so that TAME runs under the benchmark's protocol
like every other method: the experts and the selector are the protocol's MLP (the code
uses a LeNet on 32x32 MNIST, its selector with sigmoid outputs) and the experts train with
the protocol's optimiser (the code: SGD 0.1 with momentum); every expert has all the
scenario's outputs (the code trains experts on labels within a task); the buffer balances
by label (the code's Permuted-MNIST buffer balances by label and task, which a
task-agnostic learner does not know); the selector is refitted whenever the learner is
evaluated after more training (the code trains it once, after the stream). The experts are
not pruned: the code's expert pruning is not called in its training loop, and its test
script prunes experts only for CIFAR.

The benchmark loop calls `learn` once per context, so the call boundary coincides with the
context boundary. TAME ignores it: it never reads `experience.index` or `experience.classes`,
its detector state carries over from one call to the next, and it trains every expert on
all output units (no task-IL head masks during training). In task-IL the context given at
test time masks the chosen expert's outputs, as the scenario allows.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass
from typing import Any

from benchbed import BenchbedError
from benchbed_continual.learner import Learner, make_optimizer, mlp
from benchbed_continual.memory import Reservoir

# The authors' selector training on MNIST (`train_expert_selector`, `utils.train_model`).
SELECTOR_BATCH = 128
SELECTOR_SGD = {"lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4}
FINE_TUNE_SGD = {"lr": 1e-3, "momentum": 0.9, "weight_decay": 1e-4}


@dataclass
class Expert:
    net: Any
    optimizer: Any
    window: deque  # losses on the last batches it trained on
    smoothed: float | None = None  # over every batch scored since it was spawned
    trained_smoothed: float | None = None  # over the batches it trained on
    threshold: float = math.inf  # as of the last batch it trained on


def smooth(previous: float | None, value: float, factor: float) -> float:
    """Exponential smoothing; the first value stands for itself."""
    return value if previous is None else factor * value + (1 - factor) * previous


def threshold(window, sds: float, min_sd: float) -> float:
    """The loss above which an expert's data has changed: the window's mean plus `sds`
    (population) standard deviations, never fewer than `sds` x `min_sd`."""
    return statistics.fmean(window) + sds * max(statistics.pstdev(window), min_sd)


class TAME(Learner):
    name = "tame"

    def __init__(
        self,
        memory: int | None = None,
        window: int = 35,
        smoothing: float = 0.2,
        sds: float = 3.0,
        min_sd: float = 0.005,
        selector_epochs: int = 200,
        prune: float = 0.5,
        prune_epochs: int = 200,
        **protocol,
    ):
        super().__init__(**protocol)
        if int(window) != window or window < 2:
            raise BenchbedError(f"tame: window must be an integer >= 2 (losses), got {window}")
        if not 0 < smoothing <= 1:
            raise BenchbedError(f"tame: smoothing must be in (0, 1], got {smoothing}")
        if not sds > 0 or not min_sd >= 0:
            raise BenchbedError(f"tame: sds must be > 0 and min_sd >= 0, got {sds}, {min_sd}")
        for name, value, least in (
            ("selector_epochs", selector_epochs, 1),
            ("prune_epochs", prune_epochs, 0),
        ):
            if int(value) != value or value < least:
                raise BenchbedError(f"tame: {name} must be a whole number >= {least}, got {value}")
        if not 0 <= prune < 1:
            raise BenchbedError(f"tame: prune must be a fraction in [0, 1), got {prune}")
        if memory is not None and memory < 1:
            raise BenchbedError(
                f"tame: memory must be >= 1 (the selector needs a buffer), got {memory}"
            )
        self.overrides["memory"] = memory
        self.window, self.smoothing = int(window), float(smoothing)
        self.sds, self.min_sd = float(sds), float(min_sd)
        self.selector_epochs, self.prune_epochs = int(selector_epochs), int(prune_epochs)
        self.prune = float(prune)

    def setup(self):
        import torch

        self.experts: list[Expert] = []
        self.current = self.spawn(self.net, self.optimizer)
        per_label = max(1, self.setting.memory // self.setting.n_outputs)
        self.buffer = {
            label: Reservoir(per_label, self.generator) for label in range(self.setting.n_outputs)
        }
        # The selector's own random numbers: refitting it never shifts the training batches.
        self.selector_generator = torch.Generator().manual_seed(self.setting.seed + 2)
        self.selector = None  # fitted when the learner is next asked to predict
        self.stream_step = 0  # batches seen since the start of the stream
        self.switches: list[tuple[int, int, bool]] = []  # (step, expert switched to, spawned)

    # -- training: the stream, batch by batch ------------------------------------------------

    def learn(self, experience, monitor=None, every: int = 0) -> None:
        x, y = experience.x, experience.y  # only the data: no context index, no classes
        for step, index in enumerate(self.batches(len(x))):
            self.step = step
            self.observe(x[index], y[index], first=self.first_pass(experience))
            if monitor is not None and (step + 1) % every == 0:
                monitor()
        self.seen += 1

    def observe(self, x, y, first: bool) -> None:
        import torch
        import torch.nn.functional as F

        current = self.experts[self.current]
        loss = F.cross_entropy(current.net(x), y)  # kept for the step if it stays current
        with torch.no_grad():
            losses = [
                loss.item() if e is current else F.cross_entropy(e.net(x), y).item()
                for e in self.experts
            ]
        for expert, value in zip(self.experts, losses):
            expert.smoothed = smooth(expert.smoothed, value, self.smoothing)
        current.threshold = threshold(current.window, self.sds, self.min_sd)
        if current.smoothed > current.threshold:
            self.switch(x, y, losses)
            loss = None
        self.train(x, y, losses[self.current], loss)
        if first:
            self.remember(x, y)
        self.selector = None
        self.stream_step += 1

    def switch(self, x, y, losses: list[float]) -> None:
        """The training expert's loss jumped: the first expert that still fits, or a new one."""
        import torch
        import torch.nn.functional as F

        for j, expert in enumerate(self.experts):
            if smooth(expert.trained_smoothed, losses[j], self.smoothing) < expert.threshold:
                chosen, spawned = j, False
                break
        else:
            chosen, spawned = self.spawn(), True
            with torch.no_grad():
                losses.append(F.cross_entropy(self.experts[chosen].net(x), y).item())
        if chosen != self.current:
            self.switches.append((self.stream_step, chosen, spawned))
        self.current = chosen

    def spawn(self, net=None, optimizer=None) -> int:
        import torch

        if net is None:
            # New weights come from the cell's seed and the expert's number alone, not from
            # whatever else drew from torch's global generator in between.
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.setting.seed * 1000 + len(self.experts))
                net = mlp(self.setting.n_inputs, self.setting.hidden, self.setting.n_outputs)
            net = net.to(self.device)
            optimizer = make_optimizer(self.setting, net.parameters())
        window = deque([math.log(self.setting.n_outputs)], maxlen=self.window)
        self.experts.append(Expert(net.train(), optimizer, window))
        return len(self.experts) - 1

    def train(self, x, y, value: float, loss=None) -> None:
        """One optimiser step of the current expert; `value` is its loss before the step."""
        import torch.nn.functional as F

        expert = self.experts[self.current]
        expert.window.append(value)
        expert.trained_smoothed = smooth(expert.trained_smoothed, value, self.smoothing)
        if loss is None:
            loss = F.cross_entropy(expert.net(x), y)
        expert.optimizer.zero_grad()
        loss.backward()
        expert.optimizer.step()

    def remember(self, x, y) -> None:
        import torch

        owner = torch.full((len(x),), self.current, dtype=torch.long, device=self.device)
        for label in y.unique().tolist():
            rows = y == label
            self.buffer[label].add(x[rows], owner[rows])

    def stored(self):
        """The buffer's inputs and the expert each was learned by."""
        import torch

        parts = [r.all() for r in self.buffer.values() if len(r)]
        return torch.cat([x for x, _ in parts]), torch.cat([e for _, e in parts])

    def report(self) -> dict:
        """Stored with the cell: what the detector did, and the selector's sparsity."""
        if self.selector is None and len(self.experts) > 1:
            self.fit_selector()
        return {
            "experts": len(self.experts),
            "switches": [list(s) for s in self.switches],
            "selector_sparsity": getattr(self, "selector_sparsity", None),
        }

    # -- the selector -------------------------------------------------------------------------

    def fit_selector(self) -> None:
        """Train the selector from scratch on the buffer, prune it, fine-tune what is left."""
        import torch
        import torch.nn.utils.prune as prune

        x, owner = self.stored()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.setting.seed * 1000 + 999)
            net = mlp(self.setting.n_inputs, self.setting.hidden, len(self.experts))
        net = net.to(self.device).train()
        self.fit(net, x, owner, self.selector_epochs, SELECTOR_SGD)
        layers = [(m, "weight") for m in net if isinstance(m, torch.nn.Linear)]
        if self.prune > 0:
            prune.global_unstructured(
                layers, pruning_method=prune.L1Unstructured, amount=self.prune
            )
            self.fit(net, x, owner, self.prune_epochs, FINE_TUNE_SGD, milestones=(0.5, 0.75))
            for module, name in layers:
                prune.remove(module, name)
        self.selector = net.eval()
        weights = [m.weight for m, _ in layers]
        self.selector_sparsity = sum(int((w == 0).sum()) for w in weights) / sum(
            w.numel() for w in weights
        )

    def fit(self, net, x, target, epochs: int, sgd: dict, milestones=()) -> None:
        import torch
        import torch.nn.functional as F

        optimizer = torch.optim.SGD(net.parameters(), **sgd)
        steps = [round(m * epochs) for m in milestones]
        schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, steps, gamma=0.1)
        with torch.enable_grad():  # predict() asks for the selector under no_grad
            for _ in range(epochs):
                order = torch.randperm(len(x), generator=self.selector_generator).to(x.device)
                for start in range(0, len(x), SELECTOR_BATCH):
                    index = order[start : start + SELECTOR_BATCH]
                    optimizer.zero_grad()
                    F.cross_entropy(net(x[index]), target[index]).backward()
                    optimizer.step()
                schedule.step()

    # -- inference ---------------------------------------------------------------------------

    def route(self, x):
        """The expert the selector picks for each input."""
        import torch

        if len(self.experts) == 1:
            return torch.zeros(len(x), dtype=torch.long, device=x.device)
        if self.selector is None:
            self.fit_selector()
        return self.selector(x).argmax(1)

    def predict(self, x, context: int):
        import torch

        with torch.no_grad():
            choice = self.route(x)
            out = torch.empty(len(x), self.setting.n_outputs, device=x.device)
            for j in choice.unique().tolist():
                rows = choice == j
                out[rows] = self.experts[j].net(x[rows])
            # Only task-IL gives the context at test time; its mask is all ones elsewhere.
            return out.masked_fill(~self.masks[context], float("-inf")).argmax(1)
