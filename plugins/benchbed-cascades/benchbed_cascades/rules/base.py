"""What a deferral rule sees: the small model's token log-probabilities and embeddings, the
large model's middle-layer embedding, and (for training and the oracle) both models' quality."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class CascadeData:
    logprobs: list[np.ndarray]  # per item: the small model's log-probability of each output token
    emb_small: np.ndarray  # (n, d_small) small model, final layer, mean over output positions
    emb_large_mid: np.ndarray  # (n, d_large) large model, middle layer, last prompt token
    q_small: np.ndarray  # (n,) quality of the small model's output
    q_large: np.ndarray  # (n,) quality of the large model's output

    def __len__(self) -> int:
        return len(self.logprobs)

    def subset(self, index) -> CascadeData:
        index = np.asarray(index)
        return CascadeData(
            [self.logprobs[i] for i in index],
            self.emb_small[index],
            self.emb_large_mid[index],
            self.q_small[index],
            self.q_large[index],
        )


def token_quantiles(logprobs: list[np.ndarray], alphas) -> np.ndarray:
    """(n, len(alphas)): the alpha-quantiles of each item's per-token probabilities.

    Quantiles of probabilities (not log-probabilities), as the paper defines Chow-Quantile;
    alpha = 0 is the least confident token. An empty output counts as one token of probability 0.
    """
    alphas = np.asarray(alphas, dtype=float)
    out = np.zeros((len(logprobs), len(alphas)))
    for i, lp in enumerate(logprobs):
        if len(lp):
            out[i] = np.quantile(np.exp(np.asarray(lp, dtype=float)), alphas)
    return out
