"""Parameter-free poolings: (batch, tokens, dim) hidden states + (batch, tokens) mask -> (batch, dim).

Every function takes the attention mask, so padding (on either side) never leaks into a
sentence vector. All of them run on the same hidden states, so one forward pass of the
backbone feeds every pooling (`pool_all`).
"""

from __future__ import annotations

POOLINGS = ("mean", "cls", "last", "max", "weighted-mean")


def mean(hidden, mask):
    """Average of the non-padding tokens (Sentence-BERT; all-MiniLM-L6-v2's own pooling)."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9)


def cls(hidden, mask):
    """The first non-padding token ([CLS] for BERT; the first word for a decoder)."""
    first = mask.int().argmax(1)
    return hidden[_rows(hidden), first]


def last(hidden, mask):
    """The last non-padding token ([SEP] for BERT, the appended EOS for a decoder)."""
    import torch

    positions = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)
    last_index = torch.where(mask.bool(), positions, -1).max(1).values
    return hidden[_rows(hidden), last_index]


def max_(hidden, mask):
    """Element-wise maximum over the non-padding tokens."""
    import torch

    filled = hidden.masked_fill(~mask.bool().unsqueeze(-1), torch.finfo(hidden.dtype).min)
    return filled.max(1).values


def weighted_mean(hidden, mask):
    """Position-weighted mean (SGPT, Muennighoff 2022): token i of n has weight i / sum(1..n).

    Later tokens have seen more of the text under causal attention, so they weigh more.
    Positions count non-padding tokens only, so left and right padding give the same vector.
    """
    m = mask.to(hidden.dtype)
    weights = m.cumsum(1) * m
    weights = weights / weights.sum(1, keepdim=True).clamp_min(1e-9)
    return (hidden * weights.unsqueeze(-1)).sum(1)


FUNCTIONS = {"mean": mean, "cls": cls, "last": last, "max": max_, "weighted-mean": weighted_mean}


def pool(name: str, hidden, mask):
    try:
        return FUNCTIONS[name](hidden, mask)
    except KeyError:
        from benchbed import BenchbedError

        raise BenchbedError(
            f"unknown pooling {name!r}; choose one of {', '.join(POOLINGS)}"
        ) from None


def pool_all(hidden, mask, names=POOLINGS) -> dict:
    return {name: FUNCTIONS[name](hidden, mask) for name in names}


def _rows(hidden):
    import torch

    return torch.arange(hidden.shape[0], device=hidden.device)
