"""Reference rules: random deferral (the lower baseline) and the oracle (the upper bound)."""

from __future__ import annotations

import numpy as np

from benchbed_cascades.rules.base import CascadeData


class Random:
    """Defers in an order drawn from the cell's seed; its expected AUC-DF is AUC_random."""

    extra_cost = ""

    def fit(self, train: CascadeData, rng) -> None:
        self._rng = rng

    def score(self, data: CascadeData) -> np.ndarray:
        return self._rng.random(len(data))


class Oracle:
    """Defers where the large model's answer is better, using the gold labels: not a real rule,
    the best any rule can do with these two models' outputs."""

    extra_cost = ""

    def fit(self, train: CascadeData, rng) -> None:
        pass

    def score(self, data: CascadeData) -> np.ndarray:
        return np.asarray(data.q_large, float) - np.asarray(data.q_small, float)
