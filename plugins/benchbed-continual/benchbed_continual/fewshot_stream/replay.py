"""Fine-tuning with replay (the replay variant Kowadlo et al. add to the CFSL baselines):
as `FineTune`, but every step trains on the current support set concatenated with up to
`replay_batch` examples drawn (without replacement) from a reservoir buffer of earlier
support examples. The buffer holds at most `memory` (feature, label) pairs; a support set
enters it after its own steps, each example once (reservoir sampling, `memory.Reservoir`).
"""

from __future__ import annotations

import torch

from benchbed_continual.fewshot_stream.finetune import FineTune
from benchbed_continual.memory import Reservoir


class FineTuneReplay(FineTune):
    def __init__(
        self, lr: float = 0.01, steps: int = 50, memory: int = 100, replay_batch: int = 32
    ):
        super().__init__(lr, steps)
        if memory < 1 or replay_batch < 1:
            from benchbed import BenchbedError

            raise BenchbedError(
                f"replay needs memory and replay_batch >= 1, not {memory}, {replay_batch}"
            )
        self.memory, self.replay_batch = memory, replay_batch

    def prepare(self, setting):
        setting = super().prepare(setting)
        self.buffer = Reservoir(self.memory, self.generator)
        return setting

    def training_data(self, x, y):
        if not len(self.buffer):
            return x, y
        old_x, old_y = self.buffer.sample(self.replay_batch)
        return torch.cat([x, old_x]), torch.cat([y, old_y])

    def observe(self, x, y):
        super().observe(x, y)
        self.buffer.add(x, y)
