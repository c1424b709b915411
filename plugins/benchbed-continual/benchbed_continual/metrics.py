"""Continual-learning metrics computed from an accuracy matrix.

`R[i][j]` is the test accuracy on context j after training on contexts 0..i (T x T).
`b[j]` is the accuracy on context j of the model at initialisation (for forward transfer),
and `reference[j]` the accuracy on context j of a model trained jointly on contexts 0..j
(for intransigence). Plain NumPy, so these are cheap to test on hand-made matrices.
"""

from __future__ import annotations

import numpy as np


def _square(R) -> np.ndarray:
    R = np.asarray(R, dtype=float)
    if R.ndim != 2 or R.shape[0] != R.shape[1] or len(R) == 0:
        raise ValueError(f"an accuracy matrix must be square and non-empty, got shape {R.shape}")
    return R


def final_accuracies(R) -> np.ndarray:
    """Accuracy on each context after the last one: the last row of R."""
    return _square(R)[-1]


def average_accuracy(R) -> float:
    """A_T = (1/T) sum_j R[T-1][j]."""
    return float(final_accuracies(R).mean())


def incremental_accuracies(R) -> np.ndarray:
    """For each i, the mean accuracy over the contexts seen so far: (1/(i+1)) sum_{j<=i} R[i][j]."""
    R = _square(R)
    return np.array([R[i, : i + 1].mean() for i in range(len(R))])


def average_incremental_accuracy(R) -> float:
    """Rebuffi et al. 2017: the mean over i of the accuracy on contexts 0..i after context i."""
    return float(incremental_accuracies(R).mean())


def forgetting_per_context(R) -> np.ndarray:
    """Chaudhry et al. 2018: f_j = max_{l < T-1} R[l][j] - R[T-1][j], for each j < T-1.

    As in the paper the maximum runs over every earlier training step l in 0..T-2 (not only
    l >= j); an untrained context seldom scores higher than after its own training.
    """
    R = _square(R)
    T = len(R)
    if T < 2:
        return np.zeros(0)
    return np.array([R[: T - 1, j].max() - R[T - 1, j] for j in range(T - 1)])


def forgetting(R) -> float:
    per = forgetting_per_context(R)
    return float(per.mean()) if len(per) else 0.0


def backward_transfer_per_context(R) -> np.ndarray:
    """Lopez-Paz & Ranzato 2017: R[T-1][j] - R[j][j] for each j < T-1 (negative = forgetting)."""
    R = _square(R)
    T = len(R)
    return np.array([R[T - 1, j] - R[j, j] for j in range(T - 1)])


def backward_transfer(R) -> float:
    per = backward_transfer_per_context(R)
    return float(per.mean()) if len(per) else 0.0


def forward_transfer_per_context(R, b) -> np.ndarray:
    """Lopez-Paz & Ranzato 2017: R[j-1][j] - b[j] for each j >= 1, where b is the accuracy of
    the randomly initialised model."""
    R = _square(R)
    b = np.asarray(b, dtype=float)
    if b.shape != (len(R),):
        raise ValueError(f"b needs one accuracy per context ({len(R)}), got shape {b.shape}")
    return np.array([R[j - 1, j] - b[j] for j in range(1, len(R))])


def forward_transfer(R, b) -> float:
    per = forward_transfer_per_context(R, b)
    return float(per.mean()) if len(per) else 0.0


def intransigence_per_context(R, reference) -> np.ndarray:
    """Chaudhry et al. 2018: I_j = a*_j - R[j][j], where a*_j is the accuracy on context j of
    a reference model trained on the data of contexts 0..j together."""
    R = _square(R)
    reference = np.asarray(reference, dtype=float)
    if reference.shape != (len(R),):
        raise ValueError(
            f"reference needs one accuracy per context ({len(R)}), got {reference.shape}"
        )
    return reference - np.diag(R)


def intransigence(R, reference) -> float:
    return float(intransigence_per_context(R, reference).mean())


def area_under_accuracy(curve) -> float:
    """A_auc (Koh et al. 2022): the area under the curve of accuracy on the data seen so far,
    evaluated every fixed number of training samples, divided by the curve's length; with
    equally spaced evaluations it is the curve's mean."""
    curve = np.asarray(curve, dtype=float)
    if curve.ndim != 1 or len(curve) == 0:
        raise ValueError("A_auc needs a non-empty curve of accuracies")
    return float(curve.mean())
