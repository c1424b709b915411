"""MAML++ (Antoniou, Edwards & Storkey 2019, "How to train your MAML") as Antoniou et al.'s
continual few-shot baseline, on a head over the frozen backbone's features.

The head: features -> `hidden` ReLU units -> one output per label the stream may use. The
backbone is frozen and shared by every method here, so the head is all that adapts; a hidden
layer gives the inner loop more than a linear map to shape (the authors adapt a whole
network). The output layer's rows are per label index, and a stream's label indices carry no
meaning across streams, so the meta-learned initialisation of the output layer is one row
(and one bias) shared by every label, copied into each row at prepare() (Ye & Chao 2022's
"UNICORN-MAML"; it starts at zero, the "zeroing trick" of Kao et al. 2022, and
meta-training may move it). Every label therefore starts equal, whatever the number
of labels (15 or 10 per clip-art stream, 20 in the instance test).

The head's input is the feature vector rescaled to norm sqrt(n_features), a fixed rescaling
so that the inner learning rate means the same whatever the backbone's feature scale.

A stream: the head starts from the meta-learned initialisation; each support set, in order,
gets `steps` gradient steps of cross-entropy over the labels seen so far (a label not yet
seen keeps its initial row), with no reset between sets; predict() takes the arg-max over the
labels seen. Meta-training: each iteration draws `meta_batch` full CFSL streams from the base
classes (`MetaTrainSource.sample`), runs that inner loop, and takes one Adam step on the mean
target-set cross-entropy after the last set.

MAML++'s parts, as they apply here:
- learned per-layer per-step inner learning rates (LSLR): one rate per parameter tensor
  (hidden weight, hidden bias, output row, output bias) and per step within a support set,
  shared by all sets of a stream (so any number of sets can be run), initialised at
  `inner_lr`;
- multi-step loss (MSL): for the first `msl_fraction` of the iterations the outer loss is a
  weighted sum of the target-set loss after every step of the last support set, with the
  paper's annealing (equal weights at first, the non-final ones decayed linearly to 0.03 /
  steps, the final one taking the rest); afterwards only the final loss;
- derivative-order annealing: first-order gradients for the first `first_order_fraction` of
  the iterations (the inner gradients are not differentiated), second-order afterwards
  (`second_order_from` is the first second-order iteration; a third by default, the
  authors' mini-ImageNet configuration switches at epoch 80 of 150);
- cosine annealing of the meta-optimiser's learning rate from `meta_lr` to `meta_lr` / 100
  over the iterations (that configuration: 1e-3 to 1e-5).
Not applicable: per-step batch-norm statistics and biases (BNRS, BNWB; the head has no batch
norm). Differences from the authors' setting: the backbone is frozen and not meta-learned,
and the default budget is 4,000 training streams (1,000 iterations of 4), far fewer tasks.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchbed import BenchbedError

MASKED = -1e9  # logit of a label not seen yet: exactly zero probability, finite gradients
MIN_META_LR_RATIO = 0.01


def msl_weights(steps: int, iteration: int, msl_iterations: int) -> torch.Tensor:
    """MAML++'s per-step loss importance at an iteration (its `get_per_step_loss_importance_vector`,
    with iterations for epochs): all equal at 0, non-final ones decayed linearly to a floor."""
    weights = torch.full((steps,), 1.0 / steps)
    if steps == 1:
        return weights
    decay = 1.0 / steps / max(msl_iterations, 1)
    floor = 0.03 / steps
    weights[:-1] = torch.clamp(weights[:-1] - iteration * decay, min=floor)
    weights[-1] = min(1.0 / steps + iteration * (steps - 1) * decay, 1.0 - (steps - 1) * floor)
    return weights


class MAMLPlusPlus:
    def __init__(
        self,
        meta_iterations: int = 1000,
        meta_batch: int = 4,
        meta_lr: float = 0.001,
        steps: int = 5,
        inner_lr: float = 0.1,
        hidden: int = 256,
        first_order_fraction: float = 0.33,
        msl_fraction: float = 0.1,
    ):
        problems = []
        if meta_iterations < 0:
            problems.append(f"meta_iterations must be >= 0, not {meta_iterations}")
        if meta_batch < 1 or steps < 1 or hidden < 1:
            problems.append(
                f"meta_batch, steps and hidden must be >= 1, not {meta_batch}, {steps}, {hidden}"
            )
        if meta_lr <= 0 or inner_lr <= 0:
            problems.append(f"meta_lr and inner_lr must be > 0, not {meta_lr}, {inner_lr}")
        if not (0 <= first_order_fraction <= 1 and 0 <= msl_fraction <= 1):
            problems.append(
                "first_order_fraction and msl_fraction must lie in [0, 1], not "
                f"{first_order_fraction}, {msl_fraction}"
            )
        if problems:
            raise BenchbedError(f"{type(self).__name__}: " + "; ".join(problems))
        self.meta_iterations, self.meta_batch, self.meta_lr = meta_iterations, meta_batch, meta_lr
        self.steps, self.inner_lr, self.hidden = steps, inner_lr, hidden
        self.second_order_from = round(first_order_fraction * meta_iterations)
        self.msl_iterations = round(msl_fraction * meta_iterations)
        self.weights: list[torch.Tensor] | None = None
        self.history: list[dict] = []  # one entry per meta-iteration

    # -- the meta-learned parameters -------------------------------------------------------

    def initialise(self, n_features: int, seed: int, device: str) -> None:
        """Draw the head's initialisation (hidden layer as torch's Linear does, output row and
        bias at zero) and the inner learning rates, from `seed`."""
        generator = torch.Generator().manual_seed(seed)
        bound = 1.0 / n_features**0.5
        w1 = (torch.rand(self.hidden, n_features, generator=generator) * 2 - 1) * bound
        b1 = (torch.rand(self.hidden, generator=generator) * 2 - 1) * bound
        self.weights = [
            p.to(device).requires_grad_()
            for p in (w1, b1, torch.zeros(self.hidden), torch.zeros(()))
        ]
        # one rate per parameter tensor and step: LSLR
        self.learning_rates = torch.full(
            (len(self.weights), self.n_inner_steps), self.inner_lr, device=device
        ).requires_grad_()
        self.device = device

    @property
    def n_inner_steps(self) -> int:
        """Inner steps with their own learning rates (SCA adds its critic's steps)."""
        return self.steps

    def meta_parameters(self) -> list[torch.Tensor]:
        return [*self.weights, self.learning_rates]

    # -- the head and its inner loop -------------------------------------------------------

    def start(self, n_classes: int) -> list[torch.Tensor]:
        """The head for a stream of `n_classes` labels: the shared output row in every row."""
        w1, b1, row, bias = self.weights
        return [w1, b1, row.expand(n_classes, -1), bias.expand(n_classes)]

    @staticmethod
    def logits(params, x, seen) -> torch.Tensor:
        w1, b1, w2, b2 = params
        # a fixed rescaling to norm sqrt(d): the inner rates mean the same on any backbone
        x = F.normalize(x, dim=-1) * x.shape[-1] ** 0.5
        out = F.linear(F.relu(F.linear(x, w1, b1)), w2, b2)
        return out.masked_fill(~seen, MASKED)

    def step(self, params, loss, step: int, create_graph: bool) -> list[torch.Tensor]:
        grads = torch.autograd.grad(loss, params, create_graph=create_graph)
        rates = self.learning_rates[:, step]
        return [p - rates[k] * g for k, (p, g) in enumerate(zip(params, grads))]

    def adapt(self, params, x, y, seen, create_graph: bool) -> list[list[torch.Tensor]]:
        """`steps` steps on one support set; the parameters after each step."""
        trajectory = []
        for j in range(self.steps):
            loss = F.cross_entropy(self.logits(params, x, seen), y)
            params = self.step(params, loss, j, create_graph)
            trajectory.append(params)
        return trajectory

    def after_stream(self, params, x, seen, create_graph: bool) -> list[list[torch.Tensor]]:
        """Steps on the unlabelled target set before predicting: none here (SCA's critic)."""
        return []

    # -- meta-training ---------------------------------------------------------------------

    def episode_loss(self, stream, iteration: int) -> torch.Tensor:
        """The outer loss of one training stream (MSL-weighted while MSL is on)."""
        second_order = iteration >= self.second_order_from
        params = self.start(stream.n_classes)
        seen = torch.zeros(stream.n_classes, dtype=torch.bool, device=self.device)
        trajectory = []
        for x, y in stream.support:
            seen = seen.clone()
            seen[y] = True
            trajectory = self.adapt(params, x, y, seen, second_order)
            params = trajectory[-1]
        target_x, target_y = stream.target
        trajectory = trajectory + self.after_stream(params, target_x, seen, second_order)
        if iteration < self.msl_iterations:
            weights = msl_weights(len(trajectory), iteration, self.msl_iterations)
            return sum(
                w * F.cross_entropy(self.logits(p, target_x, seen), target_y)
                for w, p in zip(weights.tolist(), trajectory)
            )
        return F.cross_entropy(self.logits(trajectory[-1], target_x, seen), target_y)

    def meta_train(self, source, setting) -> None:
        self.initialise(setting.n_features, setting.seed, setting.device)
        if not self.meta_iterations:
            return
        optimizer = torch.optim.Adam(self.meta_parameters(), lr=self.meta_lr)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=self.meta_iterations, eta_min=self.meta_lr * MIN_META_LR_RATIO
        )
        for iteration in range(self.meta_iterations):
            loss = sum(
                self.episode_loss(source.sample(), iteration) for _ in range(self.meta_batch)
            )
            loss = loss / self.meta_batch
            optimizer.zero_grad()
            loss.backward()
            self.history.append(
                {
                    "iteration": iteration,
                    "second_order": iteration >= self.second_order_from,
                    "multi_step_loss": iteration < self.msl_iterations,
                    "meta_lr": optimizer.param_groups[0]["lr"],
                    "loss": loss.item(),
                }
            )
            optimizer.step()
            schedule.step()

    # -- the kind's calls ------------------------------------------------------------------

    def prepare(self, setting):
        if self.weights is None:  # never meta-trained: the same head from the stream's seed
            self.initialise(setting.n_features, setting.seed, setting.device)
        self.params = [p.detach() for p in self.start(setting.n_classes)]
        self.seen = torch.zeros(setting.n_classes, dtype=torch.bool, device=setting.device)
        return setting

    def observe(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.seen[y] = True
        with torch.enable_grad():
            params = [p.detach().requires_grad_() for p in self.params]
            trajectory = self.adapt(params, x, y, self.seen, create_graph=False)
        self.params = [p.detach() for p in trajectory[-1]]

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.logits(self.params, x, self.seen).argmax(1)
