"""Fixed base / validation / novel class splits, for benchmarks that pretrain on some classes
of a data set and evaluate on the others (few-shot episodes, continual few-shot streams)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from benchbed.errors import BenchbedError

# mini-ImageNet's 64/16/20 split of 100 classes, the proportions the transductive papers use.
SPLIT_PROPORTIONS = (64, 16, 20)


@dataclass(frozen=True)
class ClassSplit:
    base: tuple[Any, ...]
    validation: tuple[Any, ...]
    novel: tuple[Any, ...]

    def __post_init__(self) -> None:
        seen = set(self.base) & set(self.validation) | set(self.base) & set(self.novel)
        seen |= set(self.validation) & set(self.novel)
        if seen:
            raise BenchbedError(f"class split is not disjoint: {sorted(map(str, seen))}")

    def for_split(self, split: str) -> tuple[Any, ...]:
        if split == "test":
            return self.novel
        if split == "validation":
            return self.validation
        raise BenchbedError(
            f"tasks on a class split evaluate on 'test' or 'validation', not {split!r}"
        )


def split_classes(
    names: Sequence[str], proportions: tuple[int, int, int] = SPLIT_PROPORTIONS
) -> ClassSplit:
    """A fixed base / validation / novel split of `names`, the same on every machine.

    Classes are ordered by the SHA-1 of their name (a data-set definition, not a random
    draw, so it does not move with the cell's seed), then cut in the given proportions.
    """
    names = list(names)
    total = sum(proportions)
    n_val = round(len(names) * proportions[1] / total)
    n_novel = round(len(names) * proportions[2] / total)
    if len(names) - n_val - n_novel < 1 or n_val < 1 or n_novel < 1:
        raise BenchbedError(f"{len(names)} classes are too few for a base/validation/novel split")
    order = sorted(names, key=lambda n: hashlib.sha1(str(n).encode()).hexdigest())
    novel = tuple(sorted(order[:n_novel]))
    validation = tuple(sorted(order[n_novel : n_novel + n_val]))
    base = tuple(sorted(order[n_novel + n_val :]))
    return ClassSplit(base=base, validation=validation, novel=novel)
