"""Pieces every few-shot method shares: SimpleShot's feature transforms, prototypes, distances.

All functions work on a batch of episodes at once: tensors are (E, items, D).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchbed import BenchbedError

TRANSFORMS = ("UN", "L2N", "CL2N")


def check_transform(name: str) -> str:
    if name not in TRANSFORMS:
        raise BenchbedError(
            f"unknown feature transform {name!r}; choose one of {', '.join(TRANSFORMS)}"
        )
    return name


def transform(batch, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """SimpleShot's transforms of (support, query): unnormalised, L2-normalised, or centred on
    the base-class mean and then L2-normalised (CL2N)."""
    support, query = batch.support.float(), batch.query.float()
    if name == "UN":
        return support, query
    if name == "CL2N":
        if batch.base_mean is None:
            raise BenchbedError(
                "the CL2N transform needs the base-class mean; this task gives none"
            )
        mean = batch.base_mean.to(support)
        support, query = support - mean, query - mean
    elif name != "L2N":
        check_transform(name)
    return F.normalize(support, dim=-1), F.normalize(query, dim=-1)


def one_hot(labels: torch.Tensor, n_way: int) -> torch.Tensor:
    return F.one_hot(labels, n_way).float()


def prototypes(support: torch.Tensor, labels: torch.Tensor, n_way: int) -> torch.Tensor:
    """(E, N, D) class means of the support set."""
    onehot = one_hot(labels, n_way)
    return onehot.transpose(1, 2) @ support / onehot.sum(1).unsqueeze(-1)


def sq_distances(x: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """(E, M, N) squared Euclidean distances between items x (E, M, D) and centres (E, N, D)."""
    d = (x * x).sum(-1, keepdim=True) - 2 * x @ centres.transpose(1, 2)
    return (d + (centres * centres).sum(-1).unsqueeze(1)).clamp_min_(0)
