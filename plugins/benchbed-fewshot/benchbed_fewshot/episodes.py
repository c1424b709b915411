"""Episodes: the seeded N-way K-shot Q-query sampler, and the batch a method sees.

Every model evaluated on a task with a given seed sees exactly the same episodes (the
sampler draws from the cell's seed only), so per-episode accuracies pair across models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchbed import BenchbedError

# The class splits live in the core (the continual plugin uses them too); re-exported here.
from benchbed.data.splits import SPLIT_PROPORTIONS, ClassSplit, split_classes  # noqa: F401


@dataclass(frozen=True)
class EpisodeIndex:
    """Which items make each episode: `support` (E, N, K) and `query` (E, N*Q) item indices.

    `query_labels` (E, N*Q) is the way (0..N-1) of each query; queries are shuffled within
    an episode so that no method can read the labels off their order.
    """

    support: np.ndarray
    query: np.ndarray
    query_labels: np.ndarray
    classes: np.ndarray  # (E, N) the class of each way

    @property
    def episodes(self) -> int:
        return self.support.shape[0]

    def slice(self, start: int, stop: int) -> EpisodeIndex:
        return EpisodeIndex(
            self.support[start:stop],
            self.query[start:stop],
            self.query_labels[start:stop],
            self.classes[start:stop],
        )


def sample_episodes(
    labels: np.ndarray,
    classes: Sequence[Any],
    n_way: int,
    k_shot: int,
    n_query: int,
    episodes: int,
    rng: np.random.Generator,
    chunk: int = 1024,
) -> EpisodeIndex:
    """Draw `episodes` N-way K-shot Q-query episodes over `classes`, vectorised over episodes.

    Each episode picks N distinct classes uniformly, then K+Q distinct items of each class
    uniformly without replacement (the first K are the support).
    """
    labels = np.asarray(labels)
    if min(n_way, k_shot, n_query, episodes) < 1:
        raise BenchbedError("n_way, k_shot, n_query and episodes must all be at least 1")
    if len(classes) < n_way:
        raise BenchbedError(
            f"{n_way}-way episodes need {n_way} classes, this split has {len(classes)}"
        )
    pools = [np.flatnonzero(labels == c) for c in classes]
    need = k_shot + n_query
    small = [str(c) for c, p in zip(classes, pools) if len(p) < need]
    if small:
        raise BenchbedError(
            f"{k_shot}-shot {n_query}-query episodes need {need} items per class; "
            f"too few in: {', '.join(small)}"
        )
    ways = np.argsort(rng.random((episodes, len(classes))), axis=1)[:, :n_way]
    items = np.empty((episodes, n_way, need), dtype=np.int64)
    for j, pool in enumerate(pools):
        rows, slots = np.nonzero(ways == j)
        for start in range(0, len(rows), chunk):
            r, s = rows[start : start + chunk], slots[start : start + chunk]
            keys = rng.random((len(r), len(pool)))
            pick = np.argpartition(keys, need - 1, axis=1)[:, :need]
            # argpartition leaves the picked items in no particular order: sort them by their
            # keys so that which of them become the support is itself uniformly random.
            pick = np.take_along_axis(pick, np.argsort(np.take_along_axis(keys, pick, 1), 1), 1)
            items[r, s] = pool[pick]
    support = items[:, :, :k_shot]
    query = items[:, :, k_shot:].reshape(episodes, n_way * n_query)
    query_labels = np.repeat(np.arange(n_way), n_query)[None].repeat(episodes, 0)
    shuffle = np.argsort(rng.random((episodes, n_way * n_query)), axis=1)
    query = np.take_along_axis(query, shuffle, 1)
    query_labels = np.take_along_axis(query_labels, shuffle, 1)
    class_ids = np.asarray(list(classes), dtype=object)[ways]
    return EpisodeIndex(support, query, query_labels, class_ids)


@dataclass
class EpisodeBatch:
    """What a few-shot method sees: E episodes at once, as torch tensors on one device.

    support:        (E, N*K, D) features, grouped by way (way 0's K shots first)
    support_labels: (E, N*K) ways 0..N-1
    query:          (E, N*Q, D) unlabelled query features, shuffled
    base_mean:      (D,) mean feature of the base classes (SimpleShot's CL2N centre), or None

    Methods that declare `uses = ("texts",)` or `("corpus",)` also get (see `attach_texts`):
    classes (E, N) class of each way, label_names (E, N) plain-word names, support_texts
    (E, N*K) and query_texts (E, N*Q) raw texts, and `corpus` (benchbed_fewshot.corpus).
    """

    support: Any
    support_labels: Any
    query: Any
    n_way: int
    k_shot: int
    base_mean: Any = None
    classes: Any = None
    label_names: Any = None
    support_texts: Any = None
    query_texts: Any = None
    corpus: Any = None

    @property
    def episodes(self) -> int:
        return int(self.support.shape[0])

    @classmethod
    def gather(cls, features, index: EpisodeIndex, base_mean=None) -> EpisodeBatch:
        """Build a batch from a (n_items, D) feature tensor and the episodes' item indices."""
        import torch

        e, n, k = index.support.shape
        device = features.device
        sup = torch.as_tensor(index.support.reshape(e, n * k), device=device)
        qry = torch.as_tensor(index.query, device=device)
        labels = torch.arange(n, device=device).repeat_interleave(k).expand(e, -1)
        return cls(features[sup], labels, features[qry], n, k, base_mean)

    def attach_texts(self, index: EpisodeIndex, texts, label_names: dict, corpus=None) -> None:
        """Add the episodes' classes, label names and raw texts (and the corpus) to the batch."""
        e, n, k = index.support.shape
        self.classes = index.classes
        self.label_names = [[label_names[c] for c in row] for row in index.classes]
        self.support_texts = [[texts[i] for i in row] for row in index.support.reshape(e, n * k)]
        self.query_texts = [[texts[i] for i in row] for row in index.query]
        self.corpus = corpus
