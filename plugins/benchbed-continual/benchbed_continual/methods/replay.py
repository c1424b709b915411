"""Experience replay with a reservoir buffer (Chaudhry et al. 2019, "On tiny episodic memories").

Every step trains on the current mini-batch concatenated with an equally large batch drawn
from the memory; the memory is filled by reservoir sampling over the stream of examples.
"""

from __future__ import annotations

from benchbed_continual.learner import Learner
from benchbed_continual.memory import Reservoir


class Replay(Learner):
    name = "replay"

    def __init__(self, memory: int | None = None, **protocol):
        super().__init__(**protocol)
        self.overrides["memory"] = memory

    def setup(self):
        self.buffer = Reservoir(self.setting.memory, self.generator)

    def batch_loss(self, x, y, c, experience):
        import torch
        import torch.nn.functional as F

        if len(self.buffer):
            mx, my, mc = self.buffer.sample(len(x))
            bx, by, bc = torch.cat([x, mx]), torch.cat([y, my]), torch.cat([c, mc])
        else:
            bx, by, bc = x, y, c
        if self.first_pass(experience):
            self.buffer.add(x, y, c)
        return F.cross_entropy(self.logits(bx, bc), by)
