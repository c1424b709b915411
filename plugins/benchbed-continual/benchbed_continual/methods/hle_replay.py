"""Replay with hierarchy-aware pseudo-labels, after the PL part of PL-FMS (Lee et al.,
"Online Continual Learning on Hierarchical Label Expansion", ICCV 2023).

What is implemented, on hierarchical tasks (`HLESetting.parents` gives each fine unit's
parent unit):

- pseudo-labels: a memory example stored with a fine label also trains the coarse level
  with its parent (exact); one stored with a coarse label also trains the fine level with a
  pseudo-label, the model's most likely fine class among the children of its coarse class
  that have been seen so far (none yet: no fine term). Each replayed example thus adds a
  cross-entropy term at every level it has a true or pseudo label for; the loss is the mean
  over the stream batch's terms and these;
- memory management: a class-balanced memory that counts each example under its fine class,
  true or pseudo (under its coarse class while it has none); when full, a new example
  replaces a random one of the most numerous class (counting the newcomer). For this count
  the whole memory's pseudo-labels are refreshed at each new context and every `refresh`
  steps; a replayed batch gets fresh ones from its own forward pass.

`pseudo_labels=False` (an ablation) keeps the class-balanced memory but trains each stored
example only at the level of its own label and balances by that label.

The rules follow the paper's description of PL (abstract, Fig. 3 caption), not its
equations, so no equation number is cited.

Not implemented: the paper's choice of which example to discard by its effect on the loss
(we discard a random one of the largest class), and flexible memory sampling (FMS): memory
batches are drawn uniformly. The authors' released code (`Hyun1A/HLE`, `pl_fms.py`) defines
both, but holds no pseudo-labelling, so the PL rules here stay a reading of the paper.
"""

from __future__ import annotations

from benchbed import BenchbedError
from benchbed_continual.learner import Learner

IGNORE = -100  # no label at this level (cross-entropy's ignore_index)


def hierarchy_targets(labels, fine_logits, parent_units, seen_fine):
    """(coarse target, fine target) of examples labelled with output units.

    `labels[i]` is a fine unit (< F) or a coarse unit (>= F); `fine_logits` [n, F];
    `parent_units[f]` the coarse unit of fine unit f; `seen_fine[f]` whether fine class f has
    been seen. A fine label keeps itself and gets its parent; a coarse label keeps itself
    and gets the arg-max of `fine_logits` over its seen children, or IGNORE if none is seen.
    """
    import torch

    F = len(parent_units)
    is_fine = labels < F
    coarse = torch.where(is_fine, parent_units[labels.clamp(max=F - 1)], labels)
    allowed = (parent_units.unsqueeze(0) == labels.unsqueeze(1)) & seen_fine.unsqueeze(0)
    pseudo = fine_logits.masked_fill(~allowed, float("-inf")).argmax(1)
    pseudo = torch.where(allowed.any(1), pseudo, torch.full_like(pseudo, IGNORE))
    fine = torch.where(is_fine, labels, pseudo)
    return coarse, fine


class ClassBalancedMemory:
    """A fixed-size memory of (x, label) kept balanced over `keys` (class of each slot)."""

    def __init__(self, size: int, generator):
        self.size = size
        self.generator = generator
        self.n = 0
        self.x = self.y = self.pseudo = None

    def __len__(self) -> int:
        return self.n

    def keys(self, F: int):
        """Each stored example's class for balancing: its fine class, true or pseudo, else its
        coarse class."""
        import torch

        y, pseudo = self.y[: self.n], self.pseudo[: self.n]
        return torch.where((y >= F) & (pseudo >= 0), pseudo, y)

    def add(self, x, y, F: int, n_outputs: int) -> None:
        import torch

        if self.x is None:
            self.x = torch.empty((self.size, *x.shape[1:]), dtype=x.dtype, device=x.device)
            self.y = torch.empty(self.size, dtype=torch.long, device=x.device)
            self.pseudo = torch.full((self.size,), IGNORE, dtype=torch.long, device=x.device)
        for xi, yi in zip(x, y.tolist()):
            if self.n < self.size:
                slot = self.n
                self.n += 1
            else:
                keys = self.keys(F)
                counts = torch.bincount(keys, minlength=n_outputs).cpu()
                with_new = counts.clone()
                with_new[yi] += 1
                with_new[counts == 0] = -1  # evict only from a class that is stored
                candidates = (keys == int(with_new.argmax())).nonzero().flatten()
                pick = torch.randint(len(candidates), (1,), generator=self.generator)
                slot = int(candidates[int(pick)])
            self.x[slot], self.y[slot], self.pseudo[slot] = xi, yi, IGNORE

    def sample(self, k: int):
        import torch

        index = torch.randperm(self.n, generator=self.generator)[:k].to(self.x.device)
        return self.x[index], self.y[index]


class HLEReplay(Learner):
    name = "hle-replay"

    def __init__(
        self,
        memory: int | None = None,
        refresh: int = 100,
        pseudo_labels: bool = True,
        **protocol,
    ):
        super().__init__(**protocol)
        if not isinstance(pseudo_labels, bool):
            raise BenchbedError(f"pseudo_labels must be true or false, not {pseudo_labels!r}")
        self.overrides["memory"] = memory
        self.refresh = refresh
        self.pseudo_labels = pseudo_labels

    def setup(self):
        import torch

        parents = getattr(self.setting, "parents", ())
        if not parents:
            raise BenchbedError(
                "hle-replay needs a hierarchical task (continual/hle-*): the setting names no "
                "parent classes"
            )
        self.F = len(parents)
        self.parent_units = torch.tensor(parents, device=self.device)
        self.seen_fine = torch.zeros(self.F, dtype=torch.bool, device=self.device)
        self.memory = ClassBalancedMemory(self.setting.memory, self.generator)

    def before_context(self, experience):
        fine = [c for c in experience.classes if c < self.F]
        self.seen_fine[fine] = True
        self.refresh_pseudo_labels()

    def refresh_pseudo_labels(self) -> None:
        import torch

        if not len(self.memory) or not self.pseudo_labels:
            return
        with torch.no_grad():
            x, y = self.memory.x[: self.memory.n], self.memory.y[: self.memory.n]
            _, fine = hierarchy_targets(
                y, self.net(x)[:, : self.F], self.parent_units, self.seen_fine
            )
        self.memory.pseudo[: self.memory.n] = torch.where(y >= self.F, fine, IGNORE)

    def batch_loss(self, x, y, c, experience):
        import torch
        import torch.nn.functional as F

        logits = self.logits(x, c)
        losses = [F.cross_entropy(logits, y, reduction="none")]
        if len(self.memory):
            mx, my = self.memory.sample(len(x))
            out = self.net(mx)
            if self.pseudo_labels:
                coarse, fine = hierarchy_targets(
                    my, out[:, : self.F].detach(), self.parent_units, self.seen_fine
                )
            else:
                coarse = torch.where(my >= self.F, my, IGNORE)
                fine = torch.where(my < self.F, my, IGNORE)
            # One softmax per level, as the task's masks define the heads.
            heads = (self.masks[0], ~self.masks[0])  # coarse units, fine units
            for units, target in zip(heads, (coarse, fine)):
                known = target != IGNORE
                if known.any():
                    level = out[known].masked_fill(~units, float("-inf"))
                    losses.append(F.cross_entropy(level, target[known], reduction="none"))
        if self.first_pass(experience):
            self.memory.add(x, y, self.F, self.setting.n_outputs)
        if self.refresh and (self.step + 1) % self.refresh == 0:
            self.refresh_pseudo_labels()
        return torch.cat(losses).mean()
