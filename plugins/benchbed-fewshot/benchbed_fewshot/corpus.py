"""The external labelled corpus that retrieval-augmented methods search.

For a text benchmark, the episode pool is a fixed subset of each class (`per_class` items,
SHA-1 order). The corpus is made of the other items of the validation and novel classes:
texts of the same classes that no episode can ever draw, neither as support nor as query.
Items whose normalised text equals a pool text are left out too (WordNet repeats some
definitions across synsets), so a query can never be retrieved under another id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Corpus:
    ids: list[str]
    texts: list[str]
    labels: np.ndarray  # (M,) class names
    features: np.ndarray  # (M, D) float32, the benchmark's text features
    info: dict = field(default_factory=dict)
    _tensors: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    def tensor(self, device) -> Any:
        """The features as a float32 tensor on `device`, made once per device."""
        import torch

        key = str(device)
        if key not in self._tensors:
            self._tensors[key] = torch.as_tensor(self.features, dtype=torch.float32, device=device)
        return self._tensors[key]


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def corpus_items(
    ids: list[str],
    texts: list[str],
    labels: list[str],
    pool: set[str],
    classes: set[str],
    per_class: int,
) -> list[int]:
    """Positions of the corpus items: of `classes`, not in the `pool` ids, whose text is no
    pool item's text and not a repeat of an earlier corpus text; at most `per_class` per
    class, a fixed subset (SHA-1 order of the ids)."""
    from benchbed_fewshot.benchmarks import stable_subset

    pool_texts = {normalise(texts[i]) for i, item in enumerate(ids) if item in pool}
    seen: set[str] = set()
    by_class: dict[str, list[int]] = {}
    for i, (item, label) in enumerate(zip(ids, labels)):
        if label not in classes or item in pool:
            continue
        text = normalise(texts[i])
        if not text or text in pool_texts or text in seen:
            continue
        seen.add(text)
        by_class.setdefault(label, []).append(i)
    keep: list[int] = []
    for members in by_class.values():
        keep += [members[j] for j in stable_subset([ids[i] for i in members], per_class)]
    return sorted(keep)
