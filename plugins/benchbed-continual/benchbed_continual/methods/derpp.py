"""Dark experience replay, DER++ (Buzzega et al. 2020).

A reservoir buffer stores each example with its label and the logits the network gave it
when it was stored. Training adds alpha * MSE(logits now, stored logits) on one memory batch
and beta * cross-entropy on the labels of a second, independent memory batch.
"""

from __future__ import annotations

from benchbed_continual.learner import Learner
from benchbed_continual.memory import Reservoir


class DERpp(Learner):
    name = "derpp"

    # Buzzega et al.'s best values for Seq-MNIST (their appendix): alpha 0.2, beta 1.0.
    def __init__(
        self, memory: int | None = None, alpha: float = 0.2, beta: float = 1.0, **protocol
    ):
        super().__init__(**protocol)
        self.overrides["memory"] = memory
        self.alpha = alpha
        self.beta = beta

    def setup(self):
        self.buffer = Reservoir(self.setting.memory, self.generator)

    def batch_loss(self, x, y, c, experience):
        import torch.nn.functional as F

        out = self.net(x)
        loss = F.cross_entropy(out.masked_fill(~self.masks[c], float("-inf")), y)
        if len(self.buffer):
            mx, _, _, mz = self.buffer.sample(len(x))
            loss = loss + self.alpha * F.mse_loss(self.net(mx), mz)
            mx, my, mc, _ = self.buffer.sample(len(x))
            loss = loss + self.beta * F.cross_entropy(self.logits(mx, mc), my)
        if self.first_pass(experience):
            self.buffer.add(x, y, c, out.detach())
        return loss
