"""Multi-label metrics of the MLCIL literature on scores [n, labels] and 0/1 targets.

- mAP: the mean over labels of average precision, AP = sum_k (R_k - R_{k-1}) P_k over the
  distinct score thresholds in decreasing order (scikit-learn's definition; with no ties it
  is the mean of the precision at the rank of each positive). Labels with no positive image
  have no AP and are left out.
- CF1: per-label precision and recall averaged over labels (CP, CR), then
  2 CP CR / (CP + CR) (Chen et al. 2019, ML-GCN). MULTI-LANE's and KRT's code report the
  mean of the per-label F1s under that name instead.
- OF1: precision and recall over all (image, label) pairs (OP, OR), then their F1.

A label is predicted when its score is above `threshold`. MULTI-LANE's code and KRT's
configuration use 0.8 on sigmoid scores, so THRESHOLD is 0.8. A precision with no predicted positive counts
as 0, as in MULTI-LANE's code.
"""

from __future__ import annotations

import numpy as np

THRESHOLD = 0.8


def _check(scores, targets) -> tuple[np.ndarray, np.ndarray]:
    scores, targets = np.asarray(scores, dtype=np.float64), np.asarray(targets)
    if scores.ndim != 2 or scores.shape != targets.shape:
        raise ValueError(
            f"scores and targets must be [images, labels] of the same shape, got "
            f"{scores.shape} and {targets.shape}"
        )
    if not np.isin(targets, (0, 1)).all():
        raise ValueError("targets must be 0 or 1")
    return scores, targets.astype(bool)


def average_precision(scores, targets) -> float:
    """AP of one label: `scores` [n], `targets` [n] 0/1 with at least one positive."""
    scores, targets = np.asarray(scores, dtype=np.float64), np.asarray(targets).astype(bool)
    if not targets.any():
        raise ValueError("average precision needs at least one positive")
    order = np.argsort(-scores, kind="stable")
    scores, targets = scores[order], targets[order]
    # The last position of each distinct score: tied images enter together.
    ends = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    true_pos = np.cumsum(targets)[ends]
    precision = true_pos / (ends + 1)
    recall = true_pos / targets.sum()
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def average_precisions(scores, targets) -> list[float]:
    """AP of every label that has a positive image, in column order."""
    scores, targets = _check(scores, targets)
    return [
        average_precision(scores[:, c], targets[:, c])
        for c in range(scores.shape[1])
        if targets[:, c].any()
    ]


def mean_average_precision(scores, targets) -> float:
    aps = average_precisions(scores, targets)
    if not aps:
        raise ValueError("mAP needs at least one label with a positive image")
    return float(np.mean(aps))


def _counts(scores, targets, threshold):
    scores, targets = _check(scores, targets)
    predicted = scores > threshold
    true_pos = (predicted & targets).sum(0)
    return true_pos, predicted.sum(0), targets.sum(0)


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _ratio(a, b):
    """a / b elementwise, 0 where b is 0."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros_like(a), where=b > 0)


def class_f1(scores, targets, threshold: float = THRESHOLD) -> float:
    """CF1: F1 of the label-averaged precision and recall."""
    true_pos, predicted, positive = _counts(scores, targets, threshold)
    return _f1(float(_ratio(true_pos, predicted).mean()), float(_ratio(true_pos, positive).mean()))


def overall_f1(scores, targets, threshold: float = THRESHOLD) -> float:
    """OF1: F1 of the precision and recall pooled over all labels."""
    true_pos, predicted, positive = _counts(scores, targets, threshold)
    return _f1(
        float(_ratio(true_pos.sum(), predicted.sum())),
        float(_ratio(true_pos.sum(), positive.sum())),
    )
