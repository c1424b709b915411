"""The training loop every multi-label continual method shares.

A method subclasses `MultilabelLearner` and says what it trains (`trainable`), how it scores
the current task's labels while training (`train_logits`) and all seen labels at test time
(`seen_logits`); `batch_loss` and the `before_task` / `after_task` hooks add the rest.
The benchmark sets the budget (steps per task, batch size); the learning rate belongs to the
method (`lr`, the class's default unless given). Each task trains with a fresh, constant-rate
Adam optimiser (as MULTI-LANE's code does, less its cosine schedule) on binary
cross-entropy over the task's own labels only: the other labels of its images are unknown.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
import torch.nn.functional as F

from benchbed_continual.multilabel.backbone import frozen_backbone


class MultilabelLearner(ABC):
    """The shared loop: `iters` Adam steps per task on batches drawn uniformly (with
    replacement) from the task's training images."""

    lr = 1e-3  # a method's own default learning rate

    def __init__(
        self, lr: float | None = None, iters: int | None = None, batch_size: int | None = None
    ):
        self.lr = lr if lr is not None else type(self).lr
        self.overrides = {"iters": iters, "batch_size": batch_size}

    # -- the interface the multi-label task uses ---------------------------------------------

    def prepare(self, setting):
        self.setting = setting.with_overrides(**self.overrides)
        self.device = torch.device(self.setting.device)
        torch.manual_seed(self.setting.seed)
        self.generator = torch.Generator().manual_seed(self.setting.seed + 1)
        self.backbone = frozen_backbone(self.setting).to(self.device)
        self.seen_labels: list[int] = []
        self.setup()
        return self.setting

    def learn(self, experience) -> None:
        self.before_task(experience)
        optimizer = torch.optim.Adam(self.trainable(), lr=self.lr)
        x, y = experience.x, experience.y[:, list(experience.labels)]
        for _ in range(self.setting.iters):
            index = torch.randint(
                len(x), (min(self.setting.batch_size, len(x)),), generator=self.generator
            ).to(self.device)
            optimizer.zero_grad()
            self.batch_loss(x[index], y[index], experience).backward()
            optimizer.step()
        self.seen_labels += list(experience.labels)
        self.after_task(experience)

    def scores(self, x):
        """Probabilities [n, labels seen] of the seen labels, in the order tasks gave them."""
        with torch.no_grad():
            return torch.sigmoid(self.seen_logits(x))

    # -- hooks: the optional ones do nothing unless a method overrides them -----------------

    def setup(self) -> None:  # noqa: B027
        """Called at the end of `prepare`: create the method's modules."""

    def before_task(self, experience) -> None:  # noqa: B027
        pass

    def after_task(self, experience) -> None:  # noqa: B027
        pass

    @abstractmethod
    def trainable(self):
        """The parameters the current task trains."""

    def train_logits(self, x, experience):
        """Logits [n, len(experience.labels)] of the current task's labels, for the default
        `batch_loss`; a method with a loss of its own (L2P) need not define it."""
        raise NotImplementedError(
            f"{type(self).__name__} defines neither train_logits nor batch_loss"
        )

    @abstractmethod
    def seen_logits(self, x):
        """Logits [n, len(self.seen_labels)] of every seen label."""

    def batch_loss(self, x, y, experience):
        return F.binary_cross_entropy_with_logits(self.train_logits(x, experience), y)

    # -- helpers ----------------------------------------------------------------------------

    def frozen_patch_tokens(self, x):
        with torch.no_grad():
            return self.backbone.patch_tokens(x)
