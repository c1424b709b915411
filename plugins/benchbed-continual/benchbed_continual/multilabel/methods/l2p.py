"""Learning to prompt (L2P; Wang et al., CVPR 2022) on the frozen ViT.

A pool of `pool_size` prompts, each `prompt_length` tokens with a key. The query of an image
is the frozen backbone's feature of it; the `top_k` prompts whose keys are most
cosine-similar to the query are prepended to its patch tokens, the frozen ViT runs on them,
and a linear head scores the labels from the resulting feature. Training adds the paper's
surrogate loss, `key_lambda` times the sum of (1 - cosine) between the query and the chosen
keys, which pulls the chosen keys towards the queries. Prompts, keys and head train; the
backbone stays frozen. Selection needs no task identity, at training or test time.

Choices that are ours: the feature is the ViT's class-attention output over the prompted
patch tokens (L2P's class-token variant, as this ViT pools with a class token); the
optional frequency penalty that diversifies selection is not used.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from benchbed_continual.multilabel.methods.base import MultilabelLearner


class L2P(MultilabelLearner):
    lr = 0.03  # the paper's constant Adam learning rate

    def __init__(
        self,
        pool_size: int = 10,
        prompt_length: int = 5,
        top_k: int = 5,
        key_lambda: float = 0.1,
        **protocol,
    ):
        super().__init__(**protocol)
        if not 1 <= top_k <= pool_size:
            raise ValueError(f"top_k must be between 1 and pool_size ({pool_size}), not {top_k}")
        self.pool_size, self.prompt_length, self.top_k = pool_size, prompt_length, top_k
        self.key_lambda = key_lambda

    def setup(self):
        dim = self.backbone.config.dim
        self.prompts = nn.Parameter(
            torch.empty(self.pool_size, self.prompt_length, dim, device=self.device).uniform_(-1, 1)
        )
        self.keys = nn.Parameter(
            torch.empty(self.pool_size, dim, device=self.device).uniform_(-1, 1)
        )
        self.head = nn.Linear(dim, self.setting.n_labels).to(self.device)

    def trainable(self):
        return [self.prompts, self.keys, *self.head.parameters()]

    def select(self, x):
        """The chosen prompts [n, top_k * prompt_length, dim] and their keys' cosine similarity
        to the query [n, top_k]."""
        with torch.no_grad():
            query = F.normalize(self.backbone.features(x), dim=1)
        similarity = query @ F.normalize(self.keys, dim=1).T  # [n, pool]
        chosen, index = similarity.topk(self.top_k, dim=1)
        return self.prompts[index].flatten(1, 2), chosen

    def forward(self, x):
        prompts, similarity = self.select(x)
        return self.head(self.backbone.features(x, extra_tokens=prompts)), similarity

    def batch_loss(self, x, y, experience):
        logits, similarity = self.forward(x)
        bce = F.binary_cross_entropy_with_logits(logits[:, list(experience.labels)], y)
        return bce + self.key_lambda * (1 - similarity).sum(1).mean()

    def seen_logits(self, x):
        return self.forward(x)[0][:, self.seen_labels]
