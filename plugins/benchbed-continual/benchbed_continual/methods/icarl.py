"""iCaRL (Rebuffi et al. 2017): exemplars chosen by herding, a nearest-mean-of-exemplars
classifier, and representation learning with distillation.

Training uses the new context's data plus all exemplars, with a sigmoid binary
cross-entropy over the classes known so far: one-hot targets for the new classes and the
previous network's sigmoid outputs for the old ones. Afterwards each class keeps
memory // classes_known exemplars: old sets are cut to their first entries (herding order),
new sets are chosen by herding on L2-normalised features. Prediction assigns the class whose
exemplar mean (in normalised feature space) is nearest.

iCaRL needs new classes in every context, so it runs in task- and class-incremental
learning; domain-incremental learning (the same two labels in every context) is refused.
"""

from __future__ import annotations

from benchbed import BenchbedError
from benchbed_continual.learner import Learner


def herding(features, m: int):
    """Indices of m examples whose running mean best tracks the mean of `features` (normalised)."""
    import torch

    mu = features.mean(0)
    chosen: list[int] = []
    total = torch.zeros_like(mu)
    available = torch.ones(len(features), dtype=torch.bool, device=features.device)
    for k in range(1, min(m, len(features)) + 1):
        distance = (mu - (total + features) / k).norm(dim=1)
        distance[~available] = float("inf")
        i = int(distance.argmin())
        chosen.append(i)
        available[i] = False
        total += features[i]
    return torch.tensor(chosen, dtype=torch.long, device=features.device)


class ICaRL(Learner):
    name = "icarl"

    def __init__(self, memory: int | None = None, **protocol):
        super().__init__(**protocol)
        self.overrides["memory"] = memory

    def setup(self):
        if self.setting.scenario == "domain":
            raise BenchbedError(
                "iCaRL is defined for class- and task-incremental learning (new classes in every "
                "context); a domain-incremental benchmark has none"
            )
        self.exemplars: dict[int, tuple] = {}  # class -> (x, context id), in herding order
        self.teacher = None
        self.known: list[int] = []

    def training_data(self, experience):
        import torch

        x, y, c = super().training_data(experience)
        if not self.exemplars:
            return x, y, c
        ex = [e[0] for e in self.exemplars.values()]
        ey = [torch.full((len(e[0]),), k, device=self.device) for k, e in self.exemplars.items()]
        ec = [e[1] for e in self.exemplars.values()]
        return torch.cat([x, *ex]), torch.cat([y, *ey]), torch.cat([c, *ec])

    def before_context(self, experience):
        import copy

        self.old_classes = list(self.known)
        self.known += [k for k in experience.classes if k not in self.known]
        self.teacher = copy.deepcopy(self.net).eval() if self.old_classes else None

    def batch_loss(self, x, y, c, experience):
        import torch
        import torch.nn.functional as F

        known, old = self.known, self.old_classes
        out = self.net(x)[:, known]
        target = F.one_hot(y, self.setting.n_outputs)[:, known].float()
        if self.teacher is not None:
            with torch.no_grad():
                target[:, : len(old)] = torch.sigmoid(self.teacher(x)[:, old])
        # In task-IL a head only answers for its own context's classes.
        use = self.masks[c][:, known].float()
        return (
            (F.binary_cross_entropy_with_logits(out, target, reduction="none") * use).sum(1).mean()
        )

    def features(self, x):
        import torch.nn.functional as F

        return F.normalize(self.net[:-1](x), dim=1)

    def after_context(self, experience):
        import torch

        per_class = self.setting.memory // len(self.known)
        for k in self.exemplars:
            x, c = self.exemplars[k]
            self.exemplars[k] = (x[:per_class], c[:per_class])
        with torch.no_grad():
            for k in experience.classes:
                x = experience.x[experience.y == k]
                chosen = herding(self.features(x), per_class)
                self.exemplars[k] = (x[chosen], self.context_ids(experience.index, len(chosen)))

    def predict(self, x, context):
        import torch

        classes = list(self.exemplars)
        allowed = self.masks[context][classes] if classes else None
        if allowed is None or not allowed.any():
            # No exemplar of any class this context may answer with: answer as the network does.
            return super().predict(x, context)
        with torch.no_grad():
            # Class means from the current network, as the representation keeps changing.
            means = torch.stack([self.features(self.exemplars[k][0]).mean(0) for k in classes])
            distance = torch.cdist(self.features(x), torch.nn.functional.normalize(means, dim=1))
            distance[:, ~allowed] = float("inf")
            return torch.tensor(classes, device=self.device)[distance.argmin(1)]
