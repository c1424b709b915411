"""TAME: task-agnostic continual learning with multiple experts (Zhu, Majzoubi, Jain &
Choromanska 2022, arXiv:2210.03869).

The learner is never told where contexts change. It trains one expert network at a time on
the stream and watches the expert's training loss: a new task shows as a statistically
significant jump of the loss above the expert's recent values. On such a jump it switches
to an existing expert whose loss on the new data is not significantly above that expert's
own recent losses, or, if there is none, spawns a new expert. A selector network, trained
on a small buffer of stream samples labelled with the expert that learned them, routes
each test input to one expert.

Choices made here where the paper's summary leaves details open:

- Detection: the log of each batch's loss is compared with the mean m and standard
  deviation s of the log-losses of the current expert's last `window` training batches;
  the batch is suspect when (log loss - m) / s > `threshold`. A switch is declared after
  `patience` consecutive suspect batches, and suspect batches are not trained on until
  then (a shorter run of outliers is a false alarm: those batches are then trained on by
  the current expert). No detection during an expert's first `window` steps. Log space,
  because a converged expert's batch losses spread over orders of magnitude (1e-5 to 1e-2
  on Split-MNIST): in linear space rare hard batches made false alarms (7 experts instead
  of 5 on Split-MNIST class-IL with window 20, threshold 3). The defaults (window 30,
  threshold 4, patience 3) come from seed-0 training-loss trajectories of Split-Digits and
  Split-MNIST (class- and domain-IL): within a context the largest single-batch z was 4.9,
  the smallest z of the first batches after a switch 5.3.
- Switching back: expert j is reused when its mean loss on the suspect batches passes the
  same test against j's own loss window; the one with the lowest loss wins. Else a new
  expert (same architecture as the protocol's network, fresh initialisation) is spawned.
- Buffer: a reservoir (uniform over the stream) of at most `Setting.memory` inputs with
  their expert's index, so it counts against the benchmark's budget like every replay
  method; each example enters it once (first pass over the data handed to `learn`).
- Selector: an MLP like the experts with one output per expert, trained with cross-entropy
  one step per stream step on a buffer batch; its output layer grows when an expert is
  spawned (old rows kept).
- Not done: the paper's online pruning of experts and selector (it controls model size,
  not accuracy); every expert keeps its full size here.

The benchmark loop calls `learn` once per context, so the call boundary coincides with the
context boundary. TAME ignores it: it never reads `experience.index` or `experience.classes`,
its detector state (loss window, pending suspect batches) carries over from one call to the
next, and it trains every expert on all output units (no task-IL head masks during
training). In task-IL the context given at test time masks the chosen expert's outputs, as
the scenario allows.
"""

from __future__ import annotations

from collections import deque

from benchbed import BenchbedError
from benchbed_continual.learner import Learner, make_optimizer, mlp
from benchbed_continual.memory import Reservoir


class TAME(Learner):
    name = "tame"

    def __init__(
        self,
        memory: int | None = None,
        threshold: float = 4.0,
        window: int = 30,
        patience: int = 3,
        **protocol,
    ):
        super().__init__(**protocol)
        if not threshold > 0:
            raise BenchbedError(
                f"tame: threshold must be > 0 (standard deviations), got {threshold}"
            )
        if int(window) != window or window < 2:
            raise BenchbedError(f"tame: window must be an integer >= 2 (losses), got {window}")
        if int(patience) != patience or patience < 1:
            raise BenchbedError(f"tame: patience must be an integer >= 1 (batches), got {patience}")
        if memory is not None and memory < 1:
            raise BenchbedError(
                f"tame: memory must be >= 1 (the selector needs a buffer), got {memory}"
            )
        self.overrides["memory"] = memory
        self.threshold = float(threshold)
        self.window = int(window)
        self.patience = int(patience)

    def setup(self):

        self.experts = [self.net]
        self.optimizers = [self.optimizer]
        self.windows = [deque(maxlen=self.window)]  # recent training log-losses, per expert
        self.current = 0
        self.pending: list[tuple] = []  # suspect batches, held back until decided
        self.buffer = Reservoir(self.setting.memory, self.generator)
        self.selector = mlp(self.setting.n_inputs, self.setting.hidden, 1).to(self.device)
        self.selector_optimizer = make_optimizer(self.setting, self.selector.parameters())
        self.stream_step = 0  # batches seen since the start of the stream
        self.switches: list[tuple[int, int, bool]] = []  # (onset step, expert, spawned)

    # -- training: the stream, batch by batch ------------------------------------------------

    def learn(self, experience, monitor=None, every: int = 0) -> None:
        x, y = experience.x, experience.y  # only the data: no context index, no classes
        per_pass = max(1, len(x) // min(self.setting.batch_size, len(x)))
        for expert in self.experts:
            expert.train()
        for step, index in enumerate(self.batches(len(x))):
            self.observe(x[index], y[index], first=step < per_pass)
            if monitor is not None and (step + 1) % every == 0:
                monitor()
        for expert in self.experts:
            expert.eval()
        self.seen += 1

    def observe(self, x, y, first: bool) -> None:
        import torch.nn.functional as F

        loss = F.cross_entropy(self.experts[self.current](x), y)
        if self.suspect(loss.item(), self.windows[self.current]):
            self.pending.append((x, y, first))
            if len(self.pending) >= self.patience:
                self.switch()
        else:
            held, self.pending = self.pending, []
            for batch in held:  # a false alarm: they were the current expert's data
                self.update(*batch)
            # After those steps the loss must be recomputed with the new weights.
            self.update(x, y, first, None if held else loss)
        self.stream_step += 1

    def suspect(self, value: float, window) -> bool:
        """Whether the loss `value` lies more than `threshold` standard deviations above the
        window of log-losses."""
        if len(window) < self.window:
            return False
        import math
        import statistics

        mean, std = statistics.fmean(window), statistics.pstdev(window)
        return math.log(max(value, 1e-30)) > mean + self.threshold * max(std, 1e-12)

    def switch(self) -> None:
        """The current expert's loss jumped: reuse the expert that still fits, or spawn one."""
        import torch
        import torch.nn.functional as F

        best, best_loss = None, float("inf")
        with torch.no_grad():
            for j, expert in enumerate(self.experts):
                if j == self.current:
                    continue
                value = sum(F.cross_entropy(expert(x), y).item() for x, y, _ in self.pending)
                value /= len(self.pending)
                if value < best_loss and not self.suspect(value, self.windows[j]):
                    best, best_loss = j, value
        spawned = best is None
        self.current = self.spawn() if spawned else best
        self.switches.append((self.stream_step - len(self.pending) + 1, self.current, spawned))
        held, self.pending = self.pending, []
        for x, y, first in held:
            self.update(x, y, first)

    def spawn(self) -> int:
        import torch

        old = self.selector[-1]
        # New weights come from the cell's seed and the expert's number alone, not from
        # whatever else drew from torch's global generator in between.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.setting.seed * 1000 + len(self.experts))
            expert = mlp(self.setting.n_inputs, self.setting.hidden, self.setting.n_outputs)
            new = torch.nn.Linear(old.in_features, len(self.experts) + 1)
        self.experts.append(expert.to(self.device).train())
        self.optimizers.append(make_optimizer(self.setting, expert.parameters()))
        self.windows.append(deque(maxlen=self.window))
        # One more selector output; the old rows keep what the selector has learned.
        new = new.to(self.device)
        with torch.no_grad():
            new.weight[: old.out_features] = old.weight
            new.bias[: old.out_features] = old.bias
        self.selector[-1] = new
        self.selector_optimizer = make_optimizer(self.setting, self.selector.parameters())
        return len(self.experts) - 1

    def update(self, x, y, first: bool, loss=None) -> None:
        """One optimiser step of the current expert, then one of the selector."""
        import math

        import torch
        import torch.nn.functional as F

        expert, optimizer = self.experts[self.current], self.optimizers[self.current]
        if loss is None:
            loss = F.cross_entropy(expert(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        self.windows[self.current].append(math.log(max(loss.item(), 1e-30)))
        if first:
            self.buffer.add(x, torch.full((len(x),), self.current, device=self.device))
        if len(self.experts) > 1:
            mx, me = self.buffer.sample(self.setting.batch_size)
            self.selector_optimizer.zero_grad()
            F.cross_entropy(self.selector(mx), me).backward()
            self.selector_optimizer.step()

    # -- inference ---------------------------------------------------------------------------

    def route(self, x):
        """The expert the selector picks for each input."""
        import torch

        if len(self.experts) == 1:
            return torch.zeros(len(x), dtype=torch.long, device=x.device)
        self.selector.eval()
        choice = self.selector(x).argmax(1)
        self.selector.train()
        return choice

    def predict(self, x, context: int):
        import torch

        with torch.no_grad():
            choice = self.route(x)
            out = torch.empty(len(x), self.setting.n_outputs, device=x.device)
            for j in choice.unique().tolist():
                rows = choice == j
                out[rows] = self.experts[j](x[rows])
            # Only task-IL gives the context at test time; its mask is all ones elsewhere.
            return out.masked_fill(~self.masks[context], float("-inf")).argmax(1)
