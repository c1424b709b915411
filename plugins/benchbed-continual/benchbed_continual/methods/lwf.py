"""Learning without forgetting (Li & Hoiem 2016).

Before a new context, the current network is frozen as the teacher; training then adds, for
each group of old outputs, the cross-entropy between the teacher's and the student's
outputs softened with temperature T. The groups are the old heads in task-IL, the classes
seen before in class-IL, and the whole output in domain-IL.
"""

from __future__ import annotations

from benchbed_continual.learner import Learner


class LwF(Learner):
    name = "lwf"

    def __init__(self, temperature: float = 2.0, lwf_lambda: float = 1.0, **protocol):
        super().__init__(**protocol)
        self.temperature = temperature
        self.lwf_lambda = lwf_lambda

    def setup(self):
        self.teacher = None
        self.groups = []  # bool masks over output units, one per group of old outputs
        self.seen_classes: set[int] = set()

    def before_context(self, experience):
        import copy

        import torch

        if self.seen == 0:
            return
        self.teacher = copy.deepcopy(self.net).eval()
        if self.setting.scenario == "task":
            self.groups = [self.masks[k] for k in range(self.seen)]
        elif self.setting.scenario == "class":
            seen = torch.zeros(self.setting.n_outputs, dtype=torch.bool, device=self.device)
            seen[list(self.seen_classes)] = True
            self.groups = [seen]
        else:
            self.groups = [torch.ones(self.setting.n_outputs, dtype=torch.bool, device=self.device)]

    def batch_loss(self, x, y, c, experience):
        import torch
        import torch.nn.functional as F

        new = self.net(x)
        loss = F.cross_entropy(new.masked_fill(~self.masks[c], float("-inf")), y)
        if self.teacher is None:
            return loss
        with torch.no_grad():
            old = self.teacher(x)
        T = self.temperature
        for group in self.groups:
            target = F.softmax(old[:, group] / T, 1)
            loss = (
                loss
                - self.lwf_lambda * (target * F.log_softmax(new[:, group] / T, 1)).sum(1).mean()
            )
        return loss

    def after_context(self, experience):
        self.seen_classes.update(experience.classes)
