"""Elastic weight consolidation (Kirkpatrick et al. 2017) and online EWC (Schwarz et al. 2018).

After each context the diagonal Fisher information F of the network at its current
parameters theta* is estimated; later training adds (lambda/2) sum_i F_i (theta_i - theta*_i)^2.
EWC keeps one (F, theta*) pair per context; online EWC keeps a single running
F <- gamma F + F_new anchored at the latest parameters.
"""

from __future__ import annotations

from benchbed_continual.learner import Learner

# The default lambda, by the source of the task's protocol (`Setting.strengths`) and scenario.
# Hsu et al. 2018 (scripts/split_MNIST_incremental_*.sh) used reg_coef * sum F (dtheta)^2, so
# lambda/2 = reg_coef. van de Ven et al. (param_values.py of their code) use this module's
# (lambda/2) sum F (dtheta)^2 with the true Fisher, one lambda for EWC and online EWC.
VAN_DE_VEN_SPLIT = {"task": 1e5, "domain": 1e10, "class": 1e9}
VAN_DE_VEN_PERMUTED = {"task": 100.0, "domain": 100.0, "class": 100.0}
EWC_LAMBDA = {
    "hsu": {"task": 200.0, "domain": 200.0, "class": 1200.0},
    "van-de-ven-split-mnist": VAN_DE_VEN_SPLIT,
    "van-de-ven-permuted-mnist": VAN_DE_VEN_PERMUTED,
}
ONLINE_EWC_LAMBDA = {
    "hsu": {"task": 800.0, "domain": 1400.0, "class": 200.0},
    "van-de-ven-split-mnist": VAN_DE_VEN_SPLIT,
    "van-de-ven-permuted-mnist": VAN_DE_VEN_PERMUTED,
}


def fisher_diagonal(learner: Learner, x, c, chunk: int = 1024) -> dict:
    """The diagonal of the Fisher information, averaged over the examples x (contexts c).

    Labels are sampled from the model's own predictive distribution, which makes this a
    Monte-Carlo estimate of the true Fisher (not the empirical one). The squared
    per-example gradient of a linear layer is (delta^2)^T (a^2) for output gradients delta
    and inputs a, so one backward pass per chunk gives it exactly, with no per-example loop.
    """
    import torch
    import torch.nn.functional as F

    if not isinstance(learner.net, torch.nn.Sequential):
        return _fisher_per_example(learner, x, c)
    params = learner.parameters()
    fisher = {name: torch.zeros_like(p) for name, p in params.items()}
    layers = [
        (name, m) for name, m in learner.net.named_children() if isinstance(m, torch.nn.Linear)
    ]
    for start in range(0, len(x), chunk):
        h, inputs, outputs = x[start : start + chunk], [], []
        for module in learner.net:
            if isinstance(module, torch.nn.Linear):
                inputs.append(h.detach())
                h = module(h)
                outputs.append(h)
            else:
                h = module(h)
        log_p = F.log_softmax(
            h.masked_fill(~learner.masks[c[start : start + chunk]], float("-inf")), 1
        )
        labels = torch.multinomial(log_p.detach().exp().cpu(), 1, generator=learner.generator).to(
            x.device
        )
        # A sum (not a mean) of the per-example losses keeps each example's gradient intact.
        grads = torch.autograd.grad(-log_p.gather(1, labels).sum(), outputs)
        for (name, _), a, g in zip(layers, inputs, grads):
            fisher[f"{name}.weight"] += (g**2).T @ (a**2)
            fisher[f"{name}.bias"] += (g**2).sum(0)
    return {name: f / len(x) for name, f in fisher.items()}


def _fisher_per_example(learner: Learner, x, c, chunk: int = 64) -> dict:
    """The same Monte-Carlo Fisher diagonal for any network (the ViT backbone): per-example
    gradients of the sampled label's log-likelihood from `torch.func`, squared and averaged."""
    import warnings

    import torch
    import torch.nn.functional as F
    from torch.func import functional_call, grad, vmap

    net = learner.net
    params = {name: p.detach() for name, p in learner.parameters().items()}
    fisher = {name: torch.zeros_like(p) for name, p in params.items()}

    def log_likelihood(p, xi, allowed, label):
        out = functional_call(net, p, (xi[None],))[0].masked_fill(~allowed, float("-inf"))
        return F.log_softmax(out, 0).gather(0, label[None])[0]

    per_example = vmap(grad(log_likelihood), in_dims=(None, 0, 0, 0))
    for start in range(0, len(x), chunk):
        xb, cb = x[start : start + chunk], c[start : start + chunk]
        with torch.no_grad():
            p_label = F.softmax(learner.logits(xb, cb), 1)
        labels = torch.multinomial(p_label.cpu(), 1, generator=learner.generator)[:, 0]
        with warnings.catch_warnings():
            # vmap has no batching rule for CPU attention kernels; its fallback loop is exact.
            warnings.simplefilter("ignore", UserWarning)
            grads = per_example(params, xb, learner.masks[cb], labels.to(x.device))
        for name, g in grads.items():
            fisher[name] += (g**2).sum(0)
    return {name: f / len(x) for name, f in fisher.items()}


class EWC(Learner):
    name = "ewc"
    online = False

    def __init__(self, ewc_lambda: float | None = None, gamma: float = 1.0, **protocol):
        super().__init__(**protocol)
        self.ewc_lambda = ewc_lambda
        self.gamma = gamma

    def setup(self):
        table = (ONLINE_EWC_LAMBDA if self.online else EWC_LAMBDA)[self.setting.strengths]
        self.strength = (
            self.ewc_lambda if self.ewc_lambda is not None else table[self.setting.scenario]
        )
        self.anchors: list[tuple[dict, dict]] = []  # (Fisher, theta*) per consolidated context

    def penalty(self):
        params = self.parameters()
        total = 0.0
        for fisher, anchor in self.anchors:
            total = total + sum((fisher[n] * (params[n] - anchor[n]) ** 2).sum() for n in params)
        return self.strength / 2 * total

    def after_context(self, experience):
        fisher = fisher_diagonal(
            self, experience.x, self.context_ids(experience.index, len(experience.x))
        )
        anchor = {n: p.detach().clone() for n, p in self.parameters().items()}
        if self.online and self.anchors:
            previous, _ = self.anchors[0]
            fisher = {n: self.gamma * previous[n] + f for n, f in fisher.items()}
            self.anchors = []
        self.anchors.append((fisher, anchor))


class OnlineEWC(EWC):
    name = "online-ewc"
    online = True
