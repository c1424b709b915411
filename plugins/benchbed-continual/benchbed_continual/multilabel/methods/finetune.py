"""Fine-tuning, the lower bound: on each task in turn, train the top of the pre-trained ViT
(its class-attention block and final norm, copied from the backbone) and a linear head over
every label; the self-attention blocks stay frozen. Only the current task's labels are in
the loss, so nothing holds the old labels' scores in place as the shared top drifts.
"""

from __future__ import annotations

import copy

import torch.nn as nn

from benchbed_continual.multilabel.methods.base import MultilabelLearner


class FineTune(MultilabelLearner):
    def setup(self):
        vit = self.backbone
        self.top = nn.ModuleDict(
            {
                "class_attention": copy.deepcopy(vit.class_attention),
                "norm": copy.deepcopy(vit.norm),
                "head": nn.Linear(vit.config.dim, self.setting.n_labels),
            }
        ).to(self.device)
        self.top.requires_grad_(True)

    def trainable(self):
        return self.top.parameters()

    def logits(self, tokens, top=None):
        """All labels' logits [n, n_labels] from frozen patch tokens."""
        top = self.top if top is None else top
        cls = self.backbone.cls.expand(len(tokens), -1, -1)
        return top["head"](top["norm"](top["class_attention"](cls, tokens)[:, 0]))

    def train_logits(self, x, experience):
        return self.logits(self.frozen_patch_tokens(x))[:, list(experience.labels)]

    def seen_logits(self, x):
        return self.logits(self.frozen_patch_tokens(x))[:, self.seen_labels]
