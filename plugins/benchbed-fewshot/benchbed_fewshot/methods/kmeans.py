"""Transductive K-means initialised at the support prototypes, the clustering baseline of
"Transductive Few-Shot Learning: Clustering is All You Need?" (Ziko et al.).

Lloyd's algorithm over the query set with the labelled support fixed to its class: each
query is assigned to its nearest centroid, and each centroid becomes the mean of its
support items and the queries assigned to it, until no assignment changes.
"""

from __future__ import annotations

import torch

from benchbed_fewshot.methods.common import (
    check_transform,
    one_hot,
    prototypes,
    sq_distances,
    transform,
)


class TransductiveKMeans:
    def __init__(self, transform: str = "L2N", max_iter: int = 50):
        self.transform = check_transform(transform)
        self.max_iter = int(max_iter)

    def predict(self, batch):
        support, query = transform(batch, self.transform)
        n = batch.n_way
        ys = one_hot(batch.support_labels, n)  # (E, S, N)
        centres = prototypes(support, batch.support_labels, n)
        assign = sq_distances(query, centres).argmin(-1)
        for _ in range(self.max_iter):
            yq = one_hot(assign, n)
            total = ys.transpose(1, 2) @ support + yq.transpose(1, 2) @ query
            centres = total / (ys.sum(1) + yq.sum(1)).unsqueeze(-1)
            new = sq_distances(query, centres).argmin(-1)
            if torch.equal(new, assign):
                break
            assign = new
        return assign
