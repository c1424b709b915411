"""Chow's rule on the small model's sequence confidence (Gupta et al., 2024, section 3).

Chow-Sum: the sequence log-probability, sum_i log p(y_i | x, y_<i): longer outputs look less
confident (length bias). Chow-Average: the per-token mean, which over-corrects. Chow-Quantile-
alpha: the alpha-quantile of the per-token probabilities (alpha = 0 is the minimum). Each
defers the least confident items first, so the deferral score is the negated confidence.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from benchbed_cascades.rules.base import CascadeData, token_quantiles


class _Chow(ABC):
    extra_cost = ""

    def fit(self, train: CascadeData, rng) -> None:  # noqa: B027 (a deliberate no-op default)
        """Nothing to learn: the confidence is read off the small model."""

    @abstractmethod
    def confidence(self, data: CascadeData) -> np.ndarray:
        """The small model's confidence in each of its answers (higher: keep it)."""

    def score(self, data: CascadeData) -> np.ndarray:
        return -self.confidence(data)


class ChowSum(_Chow):
    def confidence(self, data):
        return np.array([float(np.sum(lp)) for lp in data.logprobs])


class ChowAverage(_Chow):
    def confidence(self, data):
        return np.array([float(np.mean(lp)) if len(lp) else -np.inf for lp in data.logprobs])


class ChowQuantile(_Chow):
    def __init__(self, alpha: float = 0.0):
        if not 0.0 <= float(alpha) <= 1.0:
            from benchbed import BenchbedError

            raise BenchbedError(f"chow-quantile: alpha must be in [0, 1], got {alpha}")
        self.alpha = float(alpha)

    def confidence(self, data):
        return token_quantiles(data.logprobs, [self.alpha])[:, 0]
