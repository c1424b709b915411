"""Seeded continual few-shot streams (Antoniou et al. 2020) and instance-test streams
(Kowadlo et al. 2022), as indices into a labelled data set.

A stream of protocol (NSS, N, K, CCI, Q) shows NSS support sets in order. Every CCI
consecutive sets share N classes, drawn without replacement from the evaluation classes, so
the stream holds N * NSS / CCI classes: CCI = 1 brings new classes in every set, CCI = NSS
new instances of the same classes. Each set has K support items and Q target items per
class; the target set, tested after the last support set, is the union of all sets' target
items, so it covers exactly the classes seen. Stream labels are 0..classes-1, in order of
first appearance (labels of a class group g are g*N..g*N+N-1), as in the authors' data
provider without class overwriting. Unlike that provider, all the items a class needs over
its CCI sets are drawn at once without replacement, so no target item is ever also a support
item of any set.

An instance stream draws NSS * K pictures of one evaluation class and shows them K per set,
each picture its own label (0..NSS*K-1); its target set is the same pictures (Kowadlo et
al.: each instance is a class), so the distractors are pictures of the same category.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchbed import BenchbedError


@dataclass(frozen=True)
class StreamProtocol:
    n_support_sets: int  # NSS
    n_way: int  # N
    k_shot: int  # K
    class_change_interval: int  # CCI
    n_query: int  # Q, target items per class and support set

    def __post_init__(self) -> None:
        if min(self.n_support_sets, self.n_way, self.k_shot, self.class_change_interval) < 1:
            raise BenchbedError("NSS, N, K and CCI must all be at least 1")
        if self.n_query < 0:
            raise BenchbedError("Q (target items per class) cannot be negative")
        if self.n_support_sets % self.class_change_interval:
            raise BenchbedError(
                f"the class change interval ({self.class_change_interval}) must divide the "
                f"number of support sets ({self.n_support_sets})"
            )

    @property
    def n_classes(self) -> int:
        return self.n_way * self.n_support_sets // self.class_change_interval

    @property
    def per_class(self) -> int:
        """Items one class needs over the stream."""
        return self.class_change_interval * (self.k_shot + self.n_query)


@dataclass(frozen=True)
class StreamIndex:
    """One stream: item indices and stream labels of each support set, and of the target set
    (shuffled); `classes[l]` is the data-set class behind stream label l."""

    support: tuple[np.ndarray, ...]
    support_labels: tuple[np.ndarray, ...]
    target: np.ndarray
    target_labels: np.ndarray
    classes: tuple[Any, ...]

    @property
    def n_classes(self) -> int:
        return len(self.classes)


def _pools(labels: np.ndarray, classes: Sequence[Any], need: int) -> list[np.ndarray]:
    pools = [np.flatnonzero(labels == c) for c in classes]
    small = [str(c) for c, p in zip(classes, pools) if len(p) < need]
    if small:
        raise BenchbedError(f"streams need {need} items per class; too few in: {', '.join(small)}")
    return pools


def sample_stream(
    labels: np.ndarray, classes: Sequence[Any], protocol: StreamProtocol, rng: np.random.Generator
) -> StreamIndex:
    """One continual few-shot stream over `classes` (see the module docstring)."""
    p = protocol
    labels = np.asarray(labels)
    if len(classes) < p.n_classes:
        raise BenchbedError(
            f"a stream of {p.n_support_sets} sets of {p.n_way} ways changing classes every "
            f"{p.class_change_interval} needs {p.n_classes} classes; there are {len(classes)}"
        )
    chosen = rng.choice(len(classes), size=p.n_classes, replace=False)
    pools = _pools(labels, [classes[c] for c in chosen], p.per_class)
    draws = [rng.choice(pool, size=p.per_class, replace=False) for pool in pools]
    support, support_labels, target, target_labels = [], [], [], []
    for i in range(p.n_support_sets):
        group, repeat = divmod(i, p.class_change_interval)
        ways = np.arange(group * p.n_way, (group + 1) * p.n_way)
        block = slice(repeat * (p.k_shot + p.n_query), (repeat + 1) * (p.k_shot + p.n_query))
        items = np.stack([draws[w][block] for w in ways])  # (N, K + Q)
        support.append(items[:, : p.k_shot].reshape(-1))
        support_labels.append(np.repeat(ways, p.k_shot))
        target.append(items[:, p.k_shot :].reshape(-1))
        target_labels.append(np.repeat(ways, p.n_query))
    order = rng.permutation(sum(len(t) for t in target))
    return StreamIndex(
        tuple(support),
        tuple(support_labels),
        np.concatenate(target)[order],
        np.concatenate(target_labels)[order],
        tuple(classes[c] for c in chosen),
    )


def sample_instance_stream(
    labels: np.ndarray,
    classes: Sequence[Any],
    n_support_sets: int,
    k_shot: int,
    rng: np.random.Generator,
) -> StreamIndex:
    """NSS * K pictures of one class drawn at random, K per support set, each its own label;
    the target set is the same pictures, shuffled."""
    if min(n_support_sets, k_shot) < 1:
        raise BenchbedError("an instance stream needs NSS and K of at least 1")
    labels = np.asarray(labels)
    need = n_support_sets * k_shot
    category = classes[int(rng.integers(len(classes)))]
    (pool,) = _pools(labels, [category], need)
    pictures = rng.choice(pool, size=need, replace=False)
    ids = np.arange(need)
    order = rng.permutation(need)
    return StreamIndex(
        tuple(pictures[i * k_shot : (i + 1) * k_shot] for i in range(n_support_sets)),
        tuple(ids[i * k_shot : (i + 1) * k_shot] for i in range(n_support_sets)),
        pictures[order],
        ids[order],
        (category,) * need,
    )
