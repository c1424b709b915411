"""Averaged gradient episodic memory, A-GEM (Chaudhry et al. 2019).

The memory keeps an equal share of examples from every context seen (or, where the protocol
says so, a fixed number per context). At each step a reference gradient g_ref is computed on
a random memory batch; when the current gradient g would increase the memory loss
(g . g_ref < 0) it is projected to g - (g . g_ref) / (g_ref . g_ref) g_ref before the
optimiser step.
"""

from __future__ import annotations

from benchbed_continual.learner import Learner
from benchbed_continual.memory import PerContext


def project(g, g_ref):
    """A-GEM's update direction: g itself, or, when it conflicts with g_ref, its projection
    onto the half-space where the memory loss does not increase."""
    dot = g @ g_ref
    return g if dot >= 0 else g - dot / (g_ref @ g_ref) * g_ref


class AGEM(Learner):
    name = "agem"

    def __init__(self, memory: int | None = None, reference_batch: int = 256, **protocol):
        super().__init__(**protocol)
        self.overrides["memory"] = memory
        self.reference_batch = reference_batch

    def setup(self):
        # An explicit memory=N is a total budget, shared among the contexts; otherwise the
        # protocol's memory, per context where the protocol gives one.
        explicit = self.overrides["memory"] is not None
        per_context = None if explicit else self.setting.memory_per_context
        self.episodic = PerContext(self.setting.memory, self.generator, per_context)

    def after_backward(self, experience):
        import torch
        import torch.nn.functional as F

        if not len(self.episodic):
            return
        params = list(self.net.parameters())
        g = torch.cat([p.grad.flatten() for p in params])
        mx, my, mc = self.episodic.sample(self.reference_batch)
        ref = torch.autograd.grad(F.cross_entropy(self.logits(mx, mc), my), params)
        g = project(g, torch.cat([r.flatten() for r in ref]))
        offset = 0
        for p in params:
            p.grad.copy_(g[offset : offset + p.numel()].view_as(p))
            offset += p.numel()

    def after_context(self, experience):
        self.episodic.add_context(
            experience.x, experience.y, self.context_ids(experience.index, len(experience.x))
        )
