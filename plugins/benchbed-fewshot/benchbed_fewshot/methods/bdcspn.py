"""BD-CSPN: prototype rectification (Liu, Song and Qin, "Prototype Rectification for Few-Shot
Learning", ECCV 2020).

Two biases of the support-mean prototypes are reduced before a cosine classifier decides:
- cross-class bias: the queries are shifted by xi = mean(support) - mean(query);
- intra-class bias: the queries are pseudo-labelled by the basic prototypes, the Z most
  confident queries of each class join its support, and the rectified prototype is the
  weighted mean of that augmented set with weights softmax_i(eps * cos(x_i, P_n)).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchbed import BenchbedError
from benchbed_fewshot.methods.common import check_transform, prototypes, transform


def cosine(x, centres):
    return F.normalize(x, dim=-1) @ F.normalize(centres, dim=-1).transpose(1, 2)


class BDCSPN:
    def __init__(self, z: int = 8, eps: float = 10.0, transform: str = "UN"):
        if int(z) < 0:
            raise BenchbedError(f"bd-cspn needs z >= 0, got {z}")
        self.z = int(z)
        self.eps = float(eps)
        self.transform = check_transform(transform)

    def predict(self, batch):
        support, query = transform(batch, self.transform)
        query = query + (support.mean(1, keepdim=True) - query.mean(1, keepdim=True))
        n, k = batch.n_way, batch.k_shot
        basic = prototypes(support, batch.support_labels, n)
        scores = torch.softmax(self.eps * cosine(query, basic), -1)  # (E, M, N)
        z = min(self.z, query.shape[1])
        if z:
            pred = scores.argmax(-1)
            own = torch.where(
                pred.unsqueeze(-1) == torch.arange(n, device=pred.device), scores, -1.0
            )
            top = own.topk(z, dim=1)  # (E, Z, N): each class's most confident own queries
            valid = top.values >= 0  # a class may have fewer than Z queries predicted as it
            picked = torch.gather(
                query.unsqueeze(2).expand(-1, -1, n, -1),
                1,
                top.indices.unsqueeze(-1).expand(-1, -1, -1, query.shape[-1]),
            )
            picked = picked.transpose(1, 2)  # (E, N, Z, D)
        else:
            picked = query.new_zeros(query.shape[0], n, 0, query.shape[-1])
            valid = torch.zeros(query.shape[0], 0, n, dtype=torch.bool, device=query.device)
        # support is grouped by way: (E, N, K, D)
        shots = support.reshape(support.shape[0], n, k, -1)
        items = torch.cat([shots, picked], 2)  # (E, N, K+Z, D)
        shot_mask = torch.ones(valid.shape[0], k, n, dtype=torch.bool, device=valid.device)
        mask = torch.cat([shot_mask, valid], 1).transpose(1, 2)
        sim = self.eps * (F.normalize(items, dim=-1) * F.normalize(basic, dim=-1).unsqueeze(2)).sum(
            -1
        )
        weights = torch.softmax(sim.masked_fill(~mask, float("-inf")), -1)  # (E, N, K+Z)
        rectified = (weights.unsqueeze(-1) * items).sum(2)
        return cosine(query, rectified).argmax(-1)
