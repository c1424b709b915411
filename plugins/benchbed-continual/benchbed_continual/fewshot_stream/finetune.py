"""Fine-tuning a linear head on each support set in turn (Antoniou et al.'s Pretrain+Tune,
with the pretrained backbone frozen: only the head learns).

At prepare() a fresh head (one output per label the stream may use) is drawn from the
stream's seed with one Adam optimiser for the whole stream; each support set then gets
`steps` full-batch Adam steps of cross-entropy over all outputs, on that set alone, so
nothing keeps earlier sets' labels from being forgotten. Prediction is the arg-max over the
labels seen so far. In the instance test the head has one output per picture (an "instance
head"), trained the same way.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class FineTune:
    def __init__(self, lr: float = 0.01, steps: int = 50):
        if lr <= 0 or steps < 1:
            from benchbed import BenchbedError

            raise BenchbedError(f"fine-tuning needs lr > 0 and steps >= 1, not {lr}, {steps}")
        self.lr, self.steps = lr, steps

    def prepare(self, setting):
        self.generator = torch.Generator().manual_seed(setting.seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(setting.seed)
            self.head = nn.Linear(setting.n_features, setting.n_classes).to(setting.device)
        self.optimizer = torch.optim.Adam(self.head.parameters(), lr=self.lr)
        self.seen = torch.zeros(setting.n_classes, dtype=torch.bool, device=setting.device)
        return setting

    def training_data(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """What one step trains on: the current support set (the replay variant adds to it)."""
        return x, y

    def observe(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.seen[y] = True
        for _ in range(self.steps):
            xb, yb = self.training_data(x, y)
            loss = F.cross_entropy(self.head(xb), yb)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.head(x).masked_fill(~self.seen, float("-inf"))
        return logits.argmax(1)
