"""Post-hoc deferral rules (Gupta et al., 2024, section 4): an MLP trained on a held-out split
to predict how much better the large model does, q_large - q_small, from features of the
small model's output; items are deferred in decreasing order of the predicted gain (the
ordering of the optimal deferral rule, which defers where the expected gain is largest).

Features:
- "quantile": the per-token probability quantiles at alphas 0, 0.05, ..., 1 (Post-Hoc-Quantile);
- "embed-1": those plus the small model's final-layer embedding (Post-Hoc-Embed-1);
- "embed-1+2": those plus the large model's middle-layer embedding of the prompt
  (Post-Hoc-Embed-1+2); it must run the large model's lower half on every question, which the
  cost curve charges (extra_cost = "large-mid").

Training splits here are small (tens to hundreds of questions, against thousands in the paper),
so `pca` (default 0: off, as in the paper) can reduce each embedding to that many components,
fitted on the training split only.
"""

from __future__ import annotations

import numpy as np

from benchbed_cascades.rules.base import CascadeData, token_quantiles

ALPHAS = np.linspace(0.0, 1.0, 21)
FEATURES = ("quantile", "embed-1", "embed-1+2")


class PostHoc:
    def __init__(self, features: str = "quantile", hidden: int = 64, l2: float = 1e-2,
                 max_iter: int = 500, pca: int = 0):  # fmt: skip
        if features not in FEATURES:
            from benchbed import BenchbedError

            raise BenchbedError(
                f"post-hoc rule: features must be one of {FEATURES}, got {features!r}"
            )
        self.features, self.hidden, self.l2 = features, int(hidden), float(l2)
        self.max_iter, self.pca = int(max_iter), int(pca)
        self.extra_cost = "large-mid" if features == "embed-1+2" else ""

    def _blocks(self, data: CascadeData) -> list[np.ndarray]:
        blocks = [token_quantiles(data.logprobs, ALPHAS)]
        if self.features in ("embed-1", "embed-1+2"):
            blocks.append(np.asarray(data.emb_small, float))
        if self.features == "embed-1+2":
            blocks.append(np.asarray(data.emb_large_mid, float))
        return blocks

    def _design(self, data: CascadeData) -> np.ndarray:
        blocks = self._blocks(data)
        for i, project in self._projections.items():
            blocks[i] = project.transform(blocks[i])
        return self._scaler.transform(np.hstack(blocks))

    def fit(self, train: CascadeData, rng) -> None:
        from sklearn.decomposition import PCA
        from sklearn.neural_network import MLPRegressor
        from sklearn.preprocessing import StandardScaler

        blocks = self._blocks(train)
        self._projections = {}
        if self.pca:
            for i in range(1, len(blocks)):
                k = min(self.pca, len(train) - 1, blocks[i].shape[1])
                self._projections[i] = PCA(k, random_state=int(rng.integers(2**31))).fit(blocks[i])
                blocks[i] = self._projections[i].transform(blocks[i])
        x = np.hstack(blocks)
        self._scaler = StandardScaler().fit(x)
        target = np.asarray(train.q_large, float) - np.asarray(train.q_small, float)
        self._mlp = MLPRegressor(
            hidden_layer_sizes=(self.hidden,),
            alpha=self.l2,
            max_iter=self.max_iter,
            random_state=int(rng.integers(2**31)),
        )
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self._mlp.fit(self._scaler.transform(x), target)

    def score(self, data: CascadeData) -> np.ndarray:
        return self._mlp.predict(self._design(data))
