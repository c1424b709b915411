"""Synaptic intelligence (Zenke, Poole & Ganguli 2017).

Along the training trajectory each parameter accumulates w += -g * dtheta, with g the
gradient of the task loss alone (without the SI penalty). At the end of a context,
Omega += w / (Delta^2 + xi), Delta being the parameter's total change over the context;
later training adds c * sum Omega (theta - theta_prev)^2.
"""

from __future__ import annotations

from benchbed_continual.learner import Learner

# The default c, by the source of the task's protocol (`Setting.strengths`) and scenario: Hsu
# et al. 2018's reg_coef; van de Ven et al.'s si_c (param_values.py of their code: the same
# penalty and xi = 0.1, though their w also takes in the penalty's own gradient).
SI_C = {
    "hsu": {"task": 300.0, "domain": 3000.0, "class": 600.0},
    "van-de-ven-split-mnist": {"task": 10.0, "domain": 50000.0, "class": 5000.0},
    "van-de-ven-permuted-mnist": {"task": 10.0, "domain": 10.0, "class": 5.0},
}


class SI(Learner):
    name = "si"

    def __init__(self, si_c: float | None = None, xi: float = 0.1, **protocol):
        super().__init__(**protocol)
        self.si_c = si_c
        self.xi = xi

    def setup(self):
        import torch

        table = SI_C[self.setting.strengths]
        self.strength = self.si_c if self.si_c is not None else table[self.setting.scenario]
        params = self.parameters()
        self.omega = {n: torch.zeros_like(p) for n, p in params.items()}
        self.w = {n: torch.zeros_like(p) for n, p in params.items()}
        self.anchor = {n: p.detach().clone() for n, p in params.items()}

    def penalty(self):
        params = self.parameters()
        return self.strength * sum(
            (self.omega[n] * (params[n] - self.anchor[n]) ** 2).sum() for n in params
        )

    def after_backward(self, experience):
        # The penalty's own gradient is 2c Omega (theta - anchor): remove it to get the task's.
        self.task_grad, self.before = {}, {}
        for n, p in self.parameters().items():
            reg = 2 * self.strength * self.omega[n] * (p.detach() - self.anchor[n])
            self.task_grad[n] = p.grad.detach() - reg
            self.before[n] = p.detach().clone()

    def after_step(self):
        for n, p in self.parameters().items():
            self.w[n] -= self.task_grad[n] * (p.detach() - self.before[n])

    def after_context(self, experience):
        for n, p in self.parameters().items():
            delta = p.detach() - self.anchor[n]
            self.omega[n] += self.w[n] / (delta**2 + self.xi)
            self.w[n].zero_()
            self.anchor[n] = p.detach().clone()
