"""SCA, Self-Critique and Adapt (Antoniou & Storkey 2019, "Learning to learn by
Self-Critique"), Antoniou et al.'s second meta-learned continual few-shot baseline: MAML++
(`maml.py`, the same head and inner loop) plus a learned critic that lets the head adapt on
the unlabelled target set before it predicts.

After the stream's last support set the head predicts the target set given to predict(x);
the critic turns those predictions into a scalar loss, and the head takes `critic_steps`
gradient steps on it (each step with its own learned per-layer rates, as in the authors'
code, where the LSLR rule covers support- and target-set steps). The critic and the head's
initialisation are meta-learned jointly: the outer loss is the cross-entropy on the true
target labels after the critic's steps.

What the critic sees. The authors condition it on the base model's target-set predictions
and, in their best variants, a task embedding of the support set and the target features.
Here the number of labels differs between streams (15 or 10, 20 in the instance test), so
the critic is applied to each (target item i, seen label c) pair and sees: the head's
probability p_ic and centred logit, and the cosine similarity between the item's feature and
the mean support feature of label c over the stream so far (the task summary: per-label
means of the support sets, which the learner keeps as it observes). A small MLP maps these
to e_ic; the critic's loss is the mean over items of sum_c p_ic e_ic. Its last layer starts
at zero, so an untrained critic changes nothing.

Every predict() call adapts a copy of the post-stream weights: the instance test's clean,
occluded and noisy copies each start from the same weights. The critic's steps are always
differentiated to second order while meta-training: the critic acts on the outer loss only
through the gradient it produces, so a first-order step would give it no meta-gradient
(derivative-order annealing applies to the support-set steps).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchbed import BenchbedError
from benchbed_continual.fewshot_stream.maml import MASKED, MAMLPlusPlus

CRITIC_INPUTS = 4


class SelfCritiqueAdapt(MAMLPlusPlus):
    def __init__(self, *args, critic_steps: int = 1, critic_hidden: int = 32, **kwargs):
        if critic_steps < 1 or critic_hidden < 1:
            raise BenchbedError(
                f"SCA needs critic_steps and critic_hidden >= 1, not {critic_steps}, "
                f"{critic_hidden}"
            )
        self.critic_steps, self.critic_hidden = critic_steps, critic_hidden
        super().__init__(*args, **kwargs)

    @property
    def n_inner_steps(self) -> int:
        return self.steps + self.critic_steps

    def initialise(self, n_features: int, seed: int, device: str) -> None:
        super().initialise(n_features, seed, device)
        generator = torch.Generator().manual_seed(seed + 1)

        def layer(n_in, n_out, zero=False):
            bound = 0.0 if zero else 1.0 / n_in**0.5
            w = (torch.rand(n_out, n_in, generator=generator) * 2 - 1) * bound
            b = (torch.rand(n_out, generator=generator) * 2 - 1) * bound
            return [w.to(device).requires_grad_(), b.to(device).requires_grad_()]

        h = self.critic_hidden
        self.critic = [*layer(CRITIC_INPUTS, h), *layer(h, h), *layer(h, 1, zero=True)]

    def meta_parameters(self) -> list[torch.Tensor]:
        return [*super().meta_parameters(), *self.critic]

    def critic_loss(self, params, x, seen, prototypes) -> torch.Tensor:
        logits = self.logits(params, x, seen)
        p = logits.softmax(1)  # zero on unseen labels
        centred = (logits - (logits * seen).sum(1, keepdim=True) / seen.sum()).masked_fill(
            ~seen, 0.0
        )
        similarity = F.normalize(x, dim=1) @ F.normalize(prototypes, dim=1).T
        best = similarity.masked_fill(~seen, MASKED).max(1, keepdim=True).values
        inputs = torch.stack([p, centred, similarity, similarity - best], dim=2)
        w1, b1, w2, b2, w3, b3 = self.critic
        e = F.linear(F.relu(F.linear(F.relu(F.linear(inputs, w1, b1)), w2, b2)), w3, b3)
        return (p * e.squeeze(2) * seen).sum(1).mean()

    def critique(self, params, x, seen, prototypes, create_graph) -> list[list[torch.Tensor]]:
        trajectory = []
        for j in range(self.critic_steps):
            loss = self.critic_loss(params, x, seen, prototypes)
            params = self.step(params, loss, self.steps + j, create_graph)
            trajectory.append(params)
        return trajectory

    # meta-training: the stream's support means are the task summary
    def episode_loss(self, stream, iteration):
        sums = torch.zeros(stream.n_classes, stream.target[0].shape[1], device=self.device)
        counts = torch.zeros(stream.n_classes, device=self.device)
        for x, y in stream.support:
            sums.index_add_(0, y, x)
            counts.index_add_(0, y, torch.ones_like(y, dtype=counts.dtype))
        self._prototypes = sums / counts.clamp(min=1)[:, None]
        return super().episode_loss(stream, iteration)

    def after_stream(self, params, x, seen, create_graph):
        return self.critique(params, x, seen, self._prototypes, create_graph=True)

    # the kind's calls
    def prepare(self, setting):
        setting = super().prepare(setting)
        self.sums = torch.zeros(setting.n_classes, setting.n_features, device=setting.device)
        self.counts = torch.zeros(setting.n_classes, device=setting.device)
        return setting

    def observe(self, x, y):
        super().observe(x, y)
        self.sums.index_add_(0, y, x)
        self.counts.index_add_(0, y, torch.ones_like(y, dtype=self.counts.dtype))

    def adapted(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The head after the critic's steps on `x`, from a copy of the post-stream weights."""
        prototypes = self.sums / self.counts.clamp(min=1)[:, None]
        with torch.enable_grad():
            params = [p.detach().requires_grad_() for p in self.params]
            trajectory = self.critique(params, x, self.seen, prototypes, create_graph=False)
        return [p.detach() for p in trajectory[-1]]

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return self.logits(self.adapted(x), x, self.seen).argmax(1)
