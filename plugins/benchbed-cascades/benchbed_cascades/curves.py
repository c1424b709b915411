"""Deferral curves, their area (AUC-DF), the random and oracle references, and cost curves.

A deferral score s(x) (higher = send to the large model first) defines, for every deferral
rate r = k/n, the cascade that defers the k highest-scoring items. Its quality is

    Q(k) = (1/n) * (sum of q_small over kept items + sum of q_large over deferred items).

Items with tied scores are deferred in a random order; the curve is the expectation over that
order (a tie group's gains are spread evenly over its positions), so a constant score gives
exactly the random curve and the result never depends on how a sort breaks ties.
"""

from __future__ import annotations

import numpy as np


def _ordered_gains(scores: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Gains in deferral order, each tie group replaced by its mean gain."""
    order = np.argsort(-scores, kind="stable")
    s, g = scores[order], gain[order].astype(float)
    out = g.copy()
    start = 0
    for end in range(1, len(s) + 1):
        if end == len(s) or s[end] != s[start]:
            out[start:end] = g[start:end].mean()
            start = end
    return out


def deferral_curve(scores, q_small, q_large) -> tuple[np.ndarray, np.ndarray]:
    """(rates, quality) at rates 0, 1/n, ..., 1."""
    scores, q_small, q_large = (np.asarray(a, dtype=float) for a in (scores, q_small, q_large))
    if not (scores.shape == q_small.shape == q_large.shape) or scores.ndim != 1 or not len(scores):
        raise ValueError(
            "scores, q_small and q_large must be 1-d arrays of the same, non-zero length"
        )
    n = len(scores)
    gains = _ordered_gains(scores, q_large - q_small)
    quality = q_small.mean() + np.concatenate([[0.0], np.cumsum(gains)]) / n
    return np.arange(n + 1) / n, quality


def auc(rates, quality) -> float:
    """Trapezoidal area under a curve over deferral rates in [0, 1]."""
    rates, quality = np.asarray(rates, float), np.asarray(quality, float)
    return float(np.sum((rates[1:] - rates[:-1]) * (quality[1:] + quality[:-1]) / 2))


def auc_df(scores, q_small, q_large) -> float:
    return auc(*deferral_curve(scores, q_small, q_large))


def auc_contributions(scores, q_small, q_large) -> np.ndarray:
    """Per-item terms whose mean is AUC-DF (for bootstrap intervals and paired tests).

    Deferring the item at position j (1-based) of n adds its gain to every point of the curve
    from rate j/n on; with trapezoids its share of the area is gain * (1 - (j - 1/2)/n). Item
    i's term is q_small_i + gain_i * that weight (tie groups share their mean weight).
    """
    scores, q_small, q_large = (np.asarray(a, dtype=float) for a in (scores, q_small, q_large))
    n = len(scores)
    order = np.argsort(-scores, kind="stable")
    weight = 1.0 - (np.arange(1, n + 1) - 0.5) / n
    s = scores[order]
    start = 0
    for end in range(1, n + 1):
        if end == n or s[end] != s[start]:
            weight[start:end] = weight[start:end].mean()
            start = end
    per_item = np.empty(n)
    per_item[order] = weight
    return q_small + (q_large - q_small) * per_item


def random_auc(q_small, q_large) -> float:
    """AUC-DF of deferring in random order: the straight line from q_small to q_large."""
    return float((np.mean(q_small) + np.mean(q_large)) / 2)


def oracle_scores(q_small, q_large) -> np.ndarray:
    """The oracle defers by the realised gain of the large model (upper reference curve)."""
    return np.asarray(q_large, float) - np.asarray(q_small, float)


def relative_improvement(auc_value: float, q_small, q_large) -> float:
    """(AUC - AUC_random) / AUC_random, the paper's relative gain over random deferral."""
    base = random_auc(q_small, q_large)
    return float((auc_value - base) / base) if base else float("nan")


def match_large(rates, quality, q_large_mean: float) -> float:
    """The smallest deferral rate at which the cascade is at least as good as the large model
    (always found: at rate 1 the cascade is the large model)."""
    reached = np.nonzero(np.asarray(quality) >= q_large_mean - 1e-12)[0]
    return float(np.asarray(rates)[reached[0]])


def cost_curve(rates, quality, small_ms: float, large_ms: float, extra_ms: float = 0.0):
    """Quality against mean latency per question: every question pays the small model (and
    any extra the rule needs before deciding); a deferred one also pays the large model."""
    latency = small_ms + extra_ms + np.asarray(rates, float) * large_ms
    return latency, np.asarray(quality, float)
