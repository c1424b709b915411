"""Confidence intervals and paired significance tests, shared by plugins and the leaderboard.

- `mean_ci`: mean with a t interval (over seeds) or a normal interval (over many episodes,
  1.96 * std / sqrt(n), the few-shot convention).
- `bootstrap_ci`: percentile bootstrap of the mean over per-item scores.
- `paired_bootstrap`, `paired_permutation`: two models scored on the same items.
- `wilcoxon`: Wilcoxon signed-rank test on paired per-task scores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Resampling draws (resamples x items) numbers; drawing them in chunks of about this many
# keeps memory flat for per-item scores in the tens of thousands (10,000 episodes).
_CHUNK_ELEMENTS = 2_000_000


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def mean_ci(values: Sequence[float], confidence: float = 0.95, method: str = "t") -> Interval:
    """Mean and interval: Student's t (small n, e.g. seeds) or the normal approximation."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = float(x.mean())
    if n == 1:
        return Interval(mean, math.nan, math.nan, 1)
    sem = float(x.std(ddof=1)) / math.sqrt(n)
    if method == "t":
        from scipy import stats

        z = float(stats.t.ppf((1 + confidence) / 2, df=n - 1))
    elif method == "normal":
        from scipy import stats

        z = float(stats.norm.ppf((1 + confidence) / 2))
    else:
        raise ValueError(f"method must be 't' or 'normal', not {method!r}")
    return Interval(mean, mean - z * sem, mean + z * sem, n)


def bootstrap_ci(
    samples: Sequence[float], confidence: float = 0.95, resamples: int = 10_000, seed: int = 0
) -> Interval:
    """Percentile bootstrap interval of the mean of per-item scores."""
    x = np.asarray(samples, dtype=float)
    if len(x) == 0:
        raise ValueError("bootstrap_ci needs at least one sample")
    means = _bootstrap_means(x, resamples, np.random.default_rng(seed))
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Interval(float(x.mean()), float(low), float(high), len(x))


def _chunks(resamples: int, items: int):
    rows = max(1, _CHUNK_ELEMENTS // max(items, 1))
    for start in range(0, resamples, rows):
        yield min(rows, resamples - start)


def _bootstrap_means(x: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Means of `resamples` bootstrap resamples of x (items drawn with replacement)."""
    n = len(x)
    return np.concatenate(
        [x[rng.integers(0, n, size=(rows, n))].mean(axis=1) for rows in _chunks(resamples, n)]
    )


def _paired(a: Sequence[float], b: Sequence[float]) -> np.ndarray:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired scores need the same items: {a.shape} vs {b.shape}")
    return a - b


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], resamples: int = 10_000, seed: int = 0
) -> float:
    """Two-sided p-value that mean(a) and mean(b) differ, resampling items jointly.

    The bootstrap distribution of the mean difference is centred on zero (the null) and the
    p-value is the fraction of resampled differences at least as extreme as the observed one.
    """
    d = _paired(a, b)
    observed = d.mean()
    boot = _bootstrap_means(d, resamples, np.random.default_rng(seed)) - observed
    return float((np.sum(np.abs(boot) >= abs(observed)) + 1) / (resamples + 1))


def paired_permutation(
    a: Sequence[float], b: Sequence[float], resamples: int = 10_000, seed: int = 0
) -> float:
    """Two-sided sign-flip permutation test on paired differences.

    Exact (all 2^n sign patterns) when n <= 16, Monte Carlo otherwise.
    """
    d = _paired(a, b)
    observed = abs(d.sum())
    n = len(d)
    if n <= 16:
        signs = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
        sums = np.abs(signs @ d)
        return float(np.mean(sums >= observed - 1e-12))
    rng = np.random.default_rng(seed)
    sums = np.concatenate(
        [np.abs(rng.choice([-1.0, 1.0], size=(rows, n)) @ d) for rows in _chunks(resamples, n)]
    )
    return float((np.sum(sums >= observed - 1e-12) + 1) / (resamples + 1))


def wilcoxon(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of the Wilcoxon signed-rank test on paired per-task scores."""
    from scipy import stats

    d = _paired(a, b)
    if not np.any(d):
        return 1.0
    return float(stats.wilcoxon(d).pvalue)
