"""k-nearest neighbours over the support set: each query takes the majority label of its k
nearest support items (Euclidean, after the chosen transform).

Ties between classes go to the tied class whose nearest member is closest, so k=1 is the
1-nearest-neighbour rule and, in 1-shot, equals nearest centroid.
"""

from __future__ import annotations

import torch

from benchbed import BenchbedError
from benchbed_fewshot.methods.common import check_transform, one_hot, sq_distances, transform


class KNearestNeighbours:
    def __init__(self, k: int = 1, transform: str = "L2N"):
        if int(k) < 1:
            raise BenchbedError(f"knn needs k >= 1, got {k}")
        self.k = int(k)
        self.transform = check_transform(transform)

    def predict(self, batch):
        support, query = transform(batch, self.transform)
        k = min(self.k, support.shape[1])
        dist = sq_distances(query, support)  # (E, M, S)
        order = dist.topk(k, dim=-1, largest=False).indices  # nearest first
        labels = torch.gather(batch.support_labels.unsqueeze(1).expand_as(dist), 2, order)
        votes = one_hot(labels, batch.n_way)  # (E, M, k, N)
        counts = votes.sum(2)
        # rank of each class's first appearance among the neighbours breaks ties: earlier wins
        first = torch.where(votes.bool(), torch.arange(k, device=dist.device).view(1, 1, k, 1), k)
        first = first.amin(2).float()
        return (counts - first / (k + 1)).argmax(-1)
