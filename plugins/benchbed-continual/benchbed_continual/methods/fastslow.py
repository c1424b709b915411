"""Fast and slow weights with two-step consolidation, after Wang, Li, Zhong & Zhu 2021,
"Few-shot Continual Learning: a Brain-inspired Approach" (arXiv:2104.09034).

The paper keeps two copies of the network's weights that are updated interdependently:
fast weights learn the task sequence "without forgetting" and slow weights improve
generalisation "without overfitting", joined by a two-step consolidation. This module
follows the paper's abstract and summary, not its equations; the definition implemented
(on the benchmark's non-few-shot protocol) is:

1. Fast weights theta_F learn each new context quickly, starting from the slow weights
   (the slow weights set where fast learning starts: the meta-plasticity of the paper),
   with the loss L_t(theta_F) + (lambda/2) sum_i F_i (theta_F,i - theta*_F,i)^2, where
   theta*_F are the fast weights after the previous context and F is the running diagonal
   Fisher F <- F + F_t of all past contexts (synaptic consolidation, Schwarz et al.'s online
   EWC form): step one, the task sequence is consolidated in the fast weights.
2. After the context, the slow weights move a fraction beta towards the consolidated fast
   weights, theta_S <- theta_S + beta (theta_F - theta_S) (the first-order meta-update of
   Reptile, Nichol et al. 2018): step two, each context changes the slow weights only a
   little, so they do not overfit the latest one.

Predictions use the fast weights, which hold the whole sequence. lambda defaults to the
online-EWC strength of `ewc.py` for the scenario (Hsu et al.'s values), beta to 0.5.
"""

from __future__ import annotations

from benchbed import BenchbedError
from benchbed_continual.learner import Learner, make_optimizer
from benchbed_continual.methods.ewc import ONLINE_EWC_LAMBDA, fisher_diagonal


class FastSlow(Learner):
    name = "fast-slow"

    def __init__(self, fast_lambda: float | None = None, slow_rate: float = 0.5, **protocol):
        super().__init__(**protocol)
        if fast_lambda is not None and fast_lambda < 0:
            raise BenchbedError(f"fast-slow: fast_lambda must be >= 0, got {fast_lambda}")
        if not 0 < slow_rate <= 1:
            raise BenchbedError(f"fast-slow: slow_rate (beta) must be in (0, 1], got {slow_rate}")
        self.fast_lambda = fast_lambda
        self.slow_rate = slow_rate

    def setup(self):
        self.strength = (
            self.fast_lambda
            if self.fast_lambda is not None
            else ONLINE_EWC_LAMBDA["hsu"][self.setting.scenario]  # on every protocol
        )
        # Slow weights: a copy of the parameters, never trained by gradient.
        self.slow = {n: p.detach().clone() for n, p in self.parameters().items()}
        self.fisher: dict | None = None
        self.anchor: dict | None = None  # the fast weights after the previous context

    def before_context(self, experience):
        import torch

        if self.seen == 0:
            return
        # Fast learning of the new context starts from the slow weights.
        with torch.no_grad():
            for n, p in self.parameters().items():
                p.copy_(self.slow[n])
        # The optimiser's state (Adam's moments) belongs to the previous start point.
        self.optimizer = make_optimizer(self.setting, self.net.parameters())

    def penalty(self):
        if self.fisher is None:
            return 0.0
        params = self.parameters()
        total = sum((self.fisher[n] * (params[n] - self.anchor[n]) ** 2).sum() for n in params)
        return self.strength / 2 * total

    def after_context(self, experience):
        import torch

        # Step one: consolidate this context into the fast weights' penalty.
        fisher = fisher_diagonal(
            self, experience.x, self.context_ids(experience.index, len(experience.x))
        )
        if self.fisher is not None:
            fisher = {n: self.fisher[n] + f for n, f in fisher.items()}
        self.fisher = fisher
        self.anchor = {n: p.detach().clone() for n, p in self.parameters().items()}
        # Step two: the slow weights move a fraction beta towards the fast ones.
        with torch.no_grad():
            for n, fast in self.anchor.items():
                self.slow[n] += self.slow_rate * (fast - self.slow[n])
