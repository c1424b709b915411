"""Retrieval-augmented support sets, after RAML ("Retrieval-Augmented Meta Learning for
Low-Resource Text Classification", Li et al., 2023, arXiv:2309.04979).

What is taken from RAML: an episode's few labelled texts are complemented by non-parametric
knowledge retrieved from an external labelled corpus. Here each support item retrieves its
`neighbours` nearest corpus items (cosine similarity of MiniLM features), and they join the
support set with their own corpus labels; a corpus item retrieved by several support items
is added once. `scope="episode"` searches the corpus items of all the episode's classes,
`scope="class"` only those of the support item's own class. The base rule then
classifies the queries: SimpleShot's CL2N transform, then the nearest class mean, every
support item (given or retrieved) weighing the same in it. The class means are L2-normalised
(a cosine nearest-centroid rule): after retrieval the classes hold unequal numbers of items,
and the mean of more unit vectors is shorter, so nearer to every query. Without this the
classes with a large corpus take the queries of the others (fortunes validation, 1-shot,
10 neighbours: 47.0% for SimpleShot; 33.6% / 35.8% with raw means, class / episode scope;
54.7% / 58.1% with normalised ones).
With equal class sizes and no retrieval (1-shot, `neighbours=0`) this is SimpleShot exactly.

What is not RAML: RAML is a meta-learned model that retrieves passages from an external corpus
and integrates them with a trained "multi-view passages fusion network"; nothing is trained
here, and the corpus is the benchmark's own
held-out labelled texts (see `benchbed_fewshot.corpus`), never the episode pool.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F

from benchbed import BenchbedError
from benchbed_fewshot.methods.common import check_transform, one_hot, sq_distances, transform

SCOPES = ("class", "episode")


class RetrievalAugmented:
    uses = ("corpus",)

    def __init__(self, neighbours: int = 10, scope: str = "episode", transform: str = "CL2N"):
        if int(neighbours) < 0:
            raise BenchbedError(f"retrieval needs neighbours >= 0, got {neighbours}")
        if scope not in SCOPES:
            raise BenchbedError(f"unknown retrieval scope {scope!r}; choose one of {SCOPES}")
        self.neighbours, self.scope = int(neighbours), scope
        self.transform = check_transform(transform)

    def augment(self, batch):
        """(support, labels, weights): the support set followed by the retrieved items, their
        ways, and 1 for each item that counts (0 for a repeat or a missing neighbour)."""
        corpus = getattr(batch, "corpus", None)
        if corpus is None or batch.classes is None:
            raise BenchbedError(
                "retrieval-augmented methods need a labelled corpus; this benchmark has none"
            )
        e, s, _ = batch.support.shape
        device = batch.support.device
        ones = torch.ones((e, s), device=device)
        r = min(self.neighbours, len(corpus))
        if r == 0:
            return batch.support, batch.support_labels, ones
        features = corpus.tensor(device)
        # way of each corpus item in each episode, -1 when its class is not in the episode
        class_ids = {c: i for i, c in enumerate(np.unique(corpus.labels))}
        corpus_ids = torch.as_tensor(np.vectorize(class_ids.get)(corpus.labels), device=device)
        episode_ids = torch.as_tensor(
            [[class_ids.get(c, -1) for c in row] for row in batch.classes], device=device
        )
        way = torch.full((e, len(corpus)), -1, dtype=torch.long, device=device)
        for n in range(batch.n_way):
            way[episode_ids[:, n : n + 1] == corpus_ids[None]] = n
        sims = F.normalize(batch.support.float(), dim=-1) @ F.normalize(features, dim=-1).T
        if self.scope == "class":
            allowed = way.unsqueeze(1) == batch.support_labels.unsqueeze(-1)  # (E, S, M)
        else:
            allowed = (way >= 0).unsqueeze(1)
        sims.masked_fill_(~allowed, float("-inf"))
        top = sims.topk(r, dim=-1)  # (E, S, r)
        idx = top.indices.reshape(e, s * r)
        valid = torch.isfinite(top.values).reshape(e, s * r)
        # a repeat of an item already retrieved for another support item counts once
        keyed = torch.where(valid, idx, -1 - torch.arange(s * r, device=device))
        ordered, order = keyed.sort(dim=-1, stable=True)
        repeat = torch.zeros_like(valid)
        repeat[:, 1:] = ordered[:, 1:] == ordered[:, :-1]
        repeat = torch.zeros_like(valid).scatter(1, order, repeat)
        weights = (valid & ~repeat).float()
        labels = way.gather(1, idx).clamp_min(0)  # a missing neighbour has weight 0
        support = torch.cat([batch.support.float(), features[idx]], 1)
        return (
            support,
            torch.cat([batch.support_labels, labels], 1),
            torch.cat([ones, weights], 1),
        )

    def predict(self, batch):
        support, labels, weights = self.augment(batch)
        augmented = dataclasses.replace(batch, support=support, support_labels=labels)
        support, query = transform(augmented, self.transform)
        mass = one_hot(labels, batch.n_way) * weights.unsqueeze(-1)  # (E, S', N)
        centres = F.normalize(mass.transpose(1, 2) @ support, dim=-1)
        return sq_distances(query, centres).argmin(-1)
