"""Prototypical networks over a stream (Snell et al. 2017; Antoniou et al.'s ProtoNets
baseline with the embedding frozen): each label's prototype is the mean of every support
feature seen with that label so far, over all support sets; a query gets the label of the
nearest prototype by squared Euclidean distance, among the labels seen.

In the instance test each picture is its own label, so it gets its own prototype: the
stored feature of that one picture.
"""

from __future__ import annotations

import torch


class ProtoNet:
    def prepare(self, setting):
        self.sums = torch.zeros(setting.n_classes, setting.n_features, device=setting.device)
        self.counts = torch.zeros(setting.n_classes, device=setting.device)
        return setting

    def observe(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.sums.index_add_(0, y, x)
        self.counts.index_add_(0, y, torch.ones_like(y, dtype=self.counts.dtype))

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        seen = self.counts.nonzero().flatten()
        prototypes = self.sums[seen] / self.counts[seen, None]
        return seen[torch.cdist(x, prototypes).argmin(1)]
