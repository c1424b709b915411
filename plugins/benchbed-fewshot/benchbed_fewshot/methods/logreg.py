"""Multinomial logistic regression fitted on each episode's support set.

The objective is scikit-learn's: 0.5 * ||W||^2 + C * sum of support cross-entropies, with an
unpenalised intercept. Episodes are independent, so the sum of their objectives is minimised
jointly with L-BFGS: its minimiser is every episode's own minimiser, and one solver call
serves the whole batch. (The stopping test is on the joint problem, so an episode's
solution can differ with the batch it is in, within the solver's tolerance.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchbed import BenchbedError
from benchbed_fewshot.methods.common import check_transform, transform


class LogisticRegression:
    def __init__(self, C: float = 1.0, transform: str = "L2N", max_iter: int = 300):
        if float(C) <= 0:
            raise BenchbedError(f"logistic regression needs C > 0, got {C}")
        self.C = float(C)
        self.transform = check_transform(transform)
        self.max_iter = int(max_iter)

    def fit(self, support: torch.Tensor, labels: torch.Tensor, n_way: int):
        """Weights (E, N, D) and intercepts (E, N) of every episode's classifier."""
        # float64 where it is cheap (CPU): L-BFGS then reaches sklearn's optimum to ~1e-6
        dtype = torch.float64 if support.device.type == "cpu" else torch.float32
        x = support.to(dtype)
        e, _, d = x.shape
        w = torch.zeros(e, n_way, d, dtype=dtype, device=x.device, requires_grad=True)
        b = torch.zeros(e, n_way, dtype=dtype, device=x.device, requires_grad=True)
        solver = torch.optim.LBFGS(
            [w, b],
            lr=1,
            max_iter=self.max_iter,
            history_size=20,
            tolerance_grad=1e-9,
            tolerance_change=1e-12,
            line_search_fn="strong_wolfe",
        )

        def objective():
            solver.zero_grad()
            logits = x @ w.transpose(1, 2) + b.unsqueeze(1)
            ce = F.cross_entropy(logits.reshape(-1, n_way), labels.reshape(-1), reduction="sum")
            loss = 0.5 * (w * w).sum() + self.C * ce
            loss.backward()
            return loss

        with torch.enable_grad():
            solver.step(objective)
        return w.detach(), b.detach()

    def predict(self, batch):
        support, query = transform(batch, self.transform)
        w, b = self.fit(support, batch.support_labels, batch.n_way)
        return (query.to(w.dtype) @ w.transpose(1, 2) + b.unsqueeze(1)).argmax(-1)
