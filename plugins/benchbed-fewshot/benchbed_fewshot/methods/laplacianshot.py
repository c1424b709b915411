"""LaplacianShot (Ziko et al., ICML 2020): Laplacian-regularised transductive inference.

Minimises, over soft assignments Y of the queries,
    E(Y) = sum_q y_q . a_q  -  lambda * sum_{q,p} w_qp y_q . y_p  +  sum_q y_q . log y_q
where a_q holds the squared distances to the support prototypes and W is the kNN affinity
of the query set (w_qp = 1 when p is among the k nearest neighbours of q). The paper's
bound optimiser linearises the concave Laplacian term, which makes every update a closed
form: y_q <- softmax(-a_q + lambda * sum_p w_qp y_p), iterated until E changes by less
than 1e-6 relatively (20 iterations at most), each episode stopping on its own.
"""

from __future__ import annotations

import torch

from benchbed import BenchbedError
from benchbed_fewshot.methods.common import check_transform, prototypes, sq_distances, transform


def knn_affinity(x: torch.Tensor, k: int) -> torch.Tensor:
    """(E, M, M) 0/1 matrix, row q marking the k nearest other items of q (not symmetrised)."""
    dist = sq_distances(x, x)
    dist.diagonal(dim1=1, dim2=2).fill_(float("inf"))
    nearest = dist.topk(k, dim=-1, largest=False).indices
    return torch.zeros_like(dist).scatter_(2, nearest, 1.0)


def energy(y, unary, kernel, lam):
    pairwise = kernel @ y
    return (unary * y - lam * pairwise * y + y * y.clamp_min(1e-20).log()).sum((1, 2))


def bound_update(unary, kernel, lam: float, iterations: int = 20, tol: float = 1e-6):
    y = torch.softmax(-unary, -1)
    old = torch.full((unary.shape[0],), float("inf"), dtype=unary.dtype, device=unary.device)
    active = torch.ones(unary.shape[0], dtype=torch.bool, device=unary.device)
    for i in range(iterations):
        new = torch.softmax(-unary + lam * (kernel @ y), -1)
        y = torch.where(active.view(-1, 1, 1), new, y)
        e = energy(y, unary, kernel, lam)
        if i > 1:
            active &= (e - old).abs() > tol * old.abs()
            if not active.any():
                break
        old = torch.where(active, e, old)
    return y


class LaplacianShot:
    def __init__(
        self, lam: float = 1.0, knn: int = 3, iterations: int = 20, transform: str = "CL2N"
    ):
        if int(knn) < 1:
            raise BenchbedError(f"laplacianshot needs knn >= 1, got {knn}")
        self.lam = float(lam)
        self.knn = int(knn)
        self.iterations = int(iterations)
        self.transform = check_transform(transform)

    def predict(self, batch):
        support, query = transform(batch, self.transform)
        centres = prototypes(support, batch.support_labels, batch.n_way)
        unary = sq_distances(query, centres)
        kernel = knn_affinity(query, min(self.knn, query.shape[1] - 1))
        return bound_update(unary, kernel, self.lam, self.iterations).argmax(-1)
