"""Episodic memories for the replay methods. Every buffer holds at most `size` examples, so
replay methods compared at one budget store the same number of images."""

from __future__ import annotations


class Reservoir:
    """Reservoir sampling (Vitter 1985) over the stream: after n examples, each one is in
    the buffer with probability size/n. Used by experience replay and DER++.

    `fields` are the tensors stored per example (e.g. x, y, context id, logits).
    """

    def __init__(self, size: int, generator):
        self.size = size
        self.generator = generator
        self.seen = 0
        self.data: list | None = None

    def __len__(self) -> int:
        return 0 if self.data is None else min(self.seen, self.size)

    def add(self, *fields) -> None:
        import torch

        n = len(fields[0])
        if self.data is None:
            self.data = [
                torch.empty((self.size, *f.shape[1:]), dtype=f.dtype, device=f.device)
                for f in fields
            ]
        # Position of each new example in the stream, and the slot it would replace.
        positions = torch.arange(self.seen, self.seen + n)
        slots = (torch.rand(n, generator=self.generator) * (positions + 1)).long()
        slots = torch.where(positions < self.size, positions, slots)
        keep = slots < self.size
        # A later example wins a slot that two examples of one batch both drew.
        for slot, i in zip(slots[keep].tolist(), keep.nonzero().flatten().tolist()):
            for store, f in zip(self.data, fields):
                store[slot] = f[i]
        self.seen += n

    def all(self):
        """Every stored example, as one tensor per field."""
        return [store[: len(self)] for store in self.data]

    def sample(self, k: int):
        """k distinct stored examples, as one tensor per field."""
        import torch

        index = torch.randperm(len(self), generator=self.generator)[:k].to(self.data[0].device)
        return [store[index] for store in self.data]


class PerContext:
    """A-GEM's episodic memory: after a context ends, a random sample of it is stored.

    With a fixed `size`, the memory is split equally among the contexts seen so far (older
    contexts give up slots so that each keeps size // contexts examples). With `per_context`,
    every context keeps that many and the memory grows, as in Chaudhry et al. (2019).
    """

    def __init__(self, size: int, generator, per_context: int | None = None):
        self.size = size
        self.per_context = per_context
        self.generator = generator
        self.parts: list[list] = []
        self.joined: list | None = None  # the parts concatenated, built once per context

    def __len__(self) -> int:
        return sum(len(part[0]) for part in self.parts)

    def add_context(self, *fields) -> None:
        import torch

        self.parts.append(list(fields))
        quota = self.per_context or self.size // len(self.parts)
        for part in self.parts:
            keep = torch.randperm(len(part[0]), generator=self.generator)[:quota].to(part[0].device)
            part[:] = [f[keep] for f in part]
        self.joined = None

    def all(self):
        import torch

        if self.joined is None:
            self.joined = [torch.cat(column) for column in zip(*self.parts)]
        return self.joined

    def sample(self, k: int):
        import torch

        data = self.all()
        index = torch.randperm(len(data[0]), generator=self.generator)[:k].to(data[0].device)
        return [f[index] for f in data]
