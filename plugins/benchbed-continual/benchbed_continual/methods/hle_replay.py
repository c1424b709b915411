"""PL-FMS (Lee et al., "Online Continual Learning on Hierarchical Label Expansion", ICCV
2023): replay on hierarchical tasks (`HLESetting.parents` gives each fine unit's parent unit)
with pseudo-labels, an importance-based class-balanced memory and flexible memory sampling.
Each part can be switched off for ablations.

- Pseudo-labels (PL, `pseudo_labels`): a memory example stored with a fine label also
  trains the coarse level with its parent (exact); one stored with a coarse label also
  trains the fine level with a pseudo-label, the model's most likely fine class among the
  children of its coarse class that have been seen so far (none yet: no fine term). The
  loss is the mean over the stream examples' terms and the replayed examples' terms, one
  per level they have a true or pseudo label for. Without PL, each stored example trains
  only its own label's level.
- Memory (`discard`): every stream example enters the memory; when it is full, the newcomer
  replaces an example of the most numerous class counting the newcomer (a class being an
  example's fine class, true or pseudo, else its coarse class), the one of least importance
  (`importance`) or a random one (`random`). Importance is CLIB's sample-wise score (Koh et
  al. 2022) as PL-FMS's code updates it after every step: with d the mean change since the
  previous step of the stored examples' losses (at their own label's level, over the slots
  not refilled in between), each example replayed in the step has its score lowered by
  0.1 (d - mean score of the replayed / their number), so replays followed by falling
  losses raise their examples' scores. A newcomer starts at the mean score of its class's
  other stored examples (none: 0 while the memory fills, else the mean of all scores).
  Pseudo-labels of the whole memory are refreshed at each new context and every `refresh`
  steps; a replayed batch gets fresh ones from its own forward pass.
- Flexible memory sampling (FMS, `fms`): after the stream's first batch, the training batch
  keeps each stream example of class c with probability min(1, (n - n_c) / (N / K)) (n the
  stream examples seen so far, n_c how many had been when c first appeared, N the stream's
  length, K the classes seen so far at both levels) and is filled with memory examples up to
  twice the stream batch. Without FMS: the whole stream batch and a memory batch as large.

The memory and FMS follow the authors' released code (`Hyun1A/HLE`, `single_depth/methods/
pl_fms.py`, `utils/data_loader.py`), with the protocol's MLP, Adam at a fixed learning rate
(the code uses CLIB's adaptive learning rate; every method here shares the protocol's
optimiser), one update per stream batch and no augmentation. That code holds no
pseudo-labelling: the PL rules follow the paper's description (abstract, Fig. 3 caption),
not its equations, so no equation number is cited.
"""

from __future__ import annotations

from benchbed import BenchbedError
from benchbed_continual.learner import Learner

IGNORE = -100  # no label at this level (cross-entropy's ignore_index)
DISCARDS = ("importance", "random")
IMPORTANCE_EMA = 0.9  # PL-FMS's code: a score moves by 1 - 0.9 of its error per update


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


def fms_keep_probability(arrived_at, n_seen: int, stream_length: int, n_classes: int):
    """FMS: the probability that a stream example enters the training batch, per example, for
    classes that first appeared when `arrived_at` stream examples had been seen, now that
    `n_seen` have: min(1, (n_seen - arrived_at) / (stream_length / n_classes))."""
    return ((n_seen - arrived_at) / (stream_length / n_classes)).clamp(max=1.0)


class ClassBalancedMemory:
    """A fixed-size memory of (x, label) kept balanced over classes (`keys`); see the module
    docstring for which example a newcomer replaces and how importance is kept."""

    def __init__(self, size: int, generator, discard: str = "importance"):
        self.size = size
        self.generator = generator
        self.discard = discard
        self.n = 0
        self.x = self.y = self.pseudo = self.score = None
        self.refilled: set[int] = set()  # slots refilled since the last importance update
        self.replayed = None  # slots replayed since then
        self.last_loss = None  # each stored example's loss at that update

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
            self.score = torch.zeros(self.size, device=x.device)
        for xi, yi in zip(x, y.tolist()):
            keys = self.keys(F)
            if self.n < self.size:
                slot = self.n
                self.n += 1
            else:
                counts = torch.bincount(keys, minlength=n_outputs).cpu()
                with_new = counts.clone()
                with_new[yi] += 1
                with_new[counts == 0] = -1  # evict only from a class that is stored
                candidates = (keys == int(with_new.argmax())).nonzero().flatten()
                if self.discard == "importance":
                    pick = int(self.score[candidates].argmin())
                else:
                    pick = int(torch.randint(len(candidates), (1,), generator=self.generator))
                slot = int(candidates[pick])
            self.score[slot] = self.starting_score(keys, yi, slot)
            self.x[slot], self.y[slot], self.pseudo[slot] = xi, yi, IGNORE
            self.refilled.add(slot)

    def starting_score(self, keys, label: int, slot: int):
        """The mean score of the class's other stored examples; for a class's only example,
        0 while the memory fills, else the mean of all scores (PL-FMS's code)."""
        same = keys == label
        if slot < len(same):
            same[slot] = False
        if same.any():
            return self.score[: len(keys)][same].mean()
        return self.score[: len(keys)].mean() if len(keys) == self.size else 0.0

    def sample(self, k: int):
        import torch

        index = torch.randperm(self.n, generator=self.generator)[:k].to(self.x.device)
        self.replayed = index
        return self.x[index], self.y[index]

    def update_importance(self, loss) -> None:
        """CLIB's score update after a step, `loss` each stored example's loss now."""
        if self.replayed is not None and len(self.replayed):
            change = 0.0
            if self.last_loss is not None:
                m = len(self.last_loss)
                unchanged = loss.new_ones(m, dtype=bool)
                unchanged[[slot for slot in self.refilled if slot < m]] = False
                if unchanged.any():
                    change = (loss[:m] - self.last_loss)[unchanged].mean()
            r = self.replayed
            error = change - self.score[r].mean() / len(r)
            self.score[r] -= (1 - IMPORTANCE_EMA) * error
        self.last_loss = loss
        self.refilled.clear()
        self.replayed = None


class HLEReplay(Learner):
    name = "hle-replay"

    def __init__(
        self,
        memory: int | None = None,
        refresh: int = 100,
        pseudo_labels: bool = True,
        fms: bool = True,
        discard: str = "importance",
        **protocol,
    ):
        super().__init__(**protocol)
        for name, value in (("pseudo_labels", pseudo_labels), ("fms", fms)):
            if not isinstance(value, bool):
                raise BenchbedError(f"{name} must be true or false, not {value!r}")
        if discard not in DISCARDS:
            raise BenchbedError(f"discard must be one of {', '.join(DISCARDS)}, not {discard!r}")
        self.overrides["memory"] = memory
        self.refresh = refresh
        self.pseudo_labels = pseudo_labels
        self.fms = fms
        self.discard = discard

    def setup(self):
        import torch

        parents = getattr(self.setting, "parents", ())
        if not parents:
            raise BenchbedError(
                "hle-replay needs a hierarchical task (continual/hle-*): the setting names no "
                "parent classes"
            )
        if self.fms and not self.setting.stream_length:
            raise BenchbedError("hle-replay's FMS needs the stream's length (stream_length)")
        self.F = len(parents)
        self.parent_units = torch.tensor(parents, device=self.device)
        self.seen_fine = torch.zeros(self.F, dtype=torch.bool, device=self.device)
        self.memory = ClassBalancedMemory(self.setting.memory, self.generator, self.discard)
        # FMS's clock: stream examples seen, and how many had been when each class arrived.
        self.n_seen = 0
        self.arrived_at = torch.full((self.setting.n_outputs,), -1, dtype=torch.long)
        self.stream_trained = 0

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

    def arrive(self, y) -> None:
        """Count the batch's examples into the stream, one at a time, as they arrive."""
        for label in y.tolist():
            self.n_seen += 1
            if self.arrived_at[label] < 0:
                self.arrived_at[label] = self.n_seen

    def stream_kept(self, y):
        """Which of the stream batch's examples FMS trains on (all of the stream's first)."""
        import torch

        if not self.fms or self.n_seen <= len(y):
            return torch.ones(len(y), dtype=torch.bool, device=y.device)
        p = fms_keep_probability(
            self.arrived_at[y.cpu()],
            self.n_seen,
            self.setting.stream_length,
            int((self.arrived_at >= 0).sum()),
        )
        return (torch.rand(len(y), generator=self.generator) < p).to(y.device)

    def batch_loss(self, x, y, c, experience):
        import torch
        import torch.nn.functional as F

        batch = len(x)
        if self.first_pass(experience):  # the memory takes the stream before training
            self.arrive(y)
            self.memory.add(x, y, self.F, self.setting.n_outputs)
        keep = self.stream_kept(y)
        x, y, c = x[keep], y[keep], c[keep]
        self.stream_trained += len(x)
        losses = [F.cross_entropy(self.logits(x, c), y, reduction="none")]
        k = min(len(self.memory), 2 * batch - len(x))
        if k:
            mx, my = self.memory.sample(k)
            out = self.net(mx)
            if self.pseudo_labels:
                coarse, fine = hierarchy_targets(
                    my, out[:, : self.F].detach(), self.parent_units, self.seen_fine
                )
            else:
                coarse = torch.where(my >= self.F, my, IGNORE)
                fine = torch.where(my < self.F, my, IGNORE)
            for units, target in zip(self.level_units(), (coarse, fine)):
                known = target != IGNORE
                if known.any():
                    level = out[known].masked_fill(~units, float("-inf"))
                    losses.append(F.cross_entropy(level, target[known], reduction="none"))
        if self.refresh and (self.step + 1) % self.refresh == 0:
            self.refresh_pseudo_labels()
        return torch.cat(losses).mean()

    def level_units(self):
        """(coarse units, fine units): one softmax per level, as the task's masks define."""
        return self.masks[0], ~self.masks[0]

    def after_step(self):
        import torch
        import torch.nn.functional as F

        if self.discard != "importance" or not len(self.memory):
            return
        n = self.memory.n
        x, y = self.memory.x[:n], self.memory.y[:n]
        coarse, fine = self.level_units()
        own_level = torch.where((y < self.F).unsqueeze(1), fine, coarse)
        with torch.no_grad():
            logits = self.net(x).masked_fill(~own_level, float("-inf"))
            self.memory.update_importance(F.cross_entropy(logits, y, reduction="none"))

    def report(self) -> dict:
        return {"stream_examples": self.n_seen, "stream_examples_trained": self.stream_trained}
