"""Learning without forgetting (Li & Hoiem 2016) for multi-label learning: before a new task
the fine-tuned top is copied as the teacher, and training adds, for the labels seen before,
the binary cross-entropy between the student's logits and the teacher's sigmoid scores (the
multi-label form of LwF's distillation: each label is its own two-way softmax)."""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from benchbed_continual.multilabel.methods.finetune import FineTune


class MultilabelLwF(FineTune):
    def __init__(self, lwf_lambda: float = 1.0, **protocol):
        super().__init__(**protocol)
        self.lwf_lambda = lwf_lambda

    def setup(self):
        super().setup()
        self.teacher = None

    def before_task(self, experience):
        if self.seen_labels:
            self.teacher = copy.deepcopy(self.top).eval().requires_grad_(False)

    def batch_loss(self, x, y, experience):
        tokens = self.frozen_patch_tokens(x)
        logits = self.logits(tokens)
        loss = F.binary_cross_entropy_with_logits(logits[:, list(experience.labels)], y)
        if self.teacher is None:
            return loss
        old = self.seen_labels
        with torch.no_grad():
            target = torch.sigmoid(self.logits(tokens, self.teacher)[:, old])
        return loss + self.lwf_lambda * F.binary_cross_entropy_with_logits(logits[:, old], target)
