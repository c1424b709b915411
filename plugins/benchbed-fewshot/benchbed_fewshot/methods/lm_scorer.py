"""Score candidate continuations of a prompt by a causal LM's log-likelihood.

`LMScorer.score(prefix, prompt, candidates)` returns log p(candidate | prefix + prompt) for each
candidate: the sum of the candidate's token log-probabilities. The prompt is run once and its
key/value cache is shared by all candidates; a prefix given to `cache_prefix` is run once and
shared by every prompt that follows it (the demonstrations of an episode, in random order).
Prefix, prompt and candidates are tokenised separately and concatenated, so the same texts
give the same tokens whether or not a prefix cache is used.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from benchbed import lms


@dataclass
class Prefix:
    ids: list[int]
    cache: Any = None  # the model's key/value cache after `ids`
    last_logits: Any = None  # (vocab,) next-token logits after `ids`


class LMScorer:
    def __init__(self, name: str = "smollm2-135m", device: str = "cpu"):
        self.name, self.device = name, device
        self.tokenizer, self.model = lms.load(name, device)

    def tokens(self, text: str, limit: int | None = None) -> list[int]:
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        return ids[:limit] if limit else ids

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids)

    def _forward(self, ids: list[int], cache=None):
        import torch

        x = torch.tensor([ids], device=self.device)
        out = self.model(input_ids=x, past_key_values=cache, use_cache=True, logits_to_keep=1)
        return out.past_key_values, out.logits[0, -1]

    def cache_prefix(self, ids: list[int]) -> Prefix:
        import torch

        with torch.no_grad():
            cache, last = self._forward(ids)
        return Prefix(ids, cache, last)

    def score(self, prefix: Prefix | list[int], prompt: list[int], candidates: list[list[int]]):
        """(len(candidates),) summed log-probabilities of each candidate after prefix + prompt."""
        import torch
        import torch.nn.functional as F

        if any(not c for c in candidates) or not prompt and not prefix:
            raise ValueError("the prompt and every candidate need at least one token")
        with torch.no_grad():
            if isinstance(prefix, Prefix):
                cache = copy.deepcopy(prefix.cache) if prefix.cache is not None else None
                cache, last = (
                    self._forward(prompt, cache) if prompt else (cache, prefix.last_logits)
                )
                context = len(prefix.ids) + len(prompt)
            else:
                cache, last = self._forward(list(prefix) + list(prompt))
                context = len(prefix) + len(prompt)
            n, width = len(candidates), max(len(c) for c in candidates)
            ids = torch.zeros((n, width), dtype=torch.long, device=self.device)
            mask = torch.zeros((n, width), dtype=torch.bool, device=self.device)
            for i, c in enumerate(candidates):
                ids[i, : len(c)] = torch.tensor(c)
                mask[i, : len(c)] = True
            logp = F.log_softmax(last.float(), -1)[ids[:, 0]]  # first candidate token
            if width > 1:
                # right padding is harmless: a causal model's scores at the real positions
                # never see the padding after them, and the padded positions are masked out
                cache.batch_repeat_interleave(n)
                attention = torch.ones(
                    (n, context + width - 1), dtype=torch.long, device=self.device
                )
                out = self.model(
                    input_ids=ids[:, :-1],
                    past_key_values=cache,
                    attention_mask=attention,
                    use_cache=True,
                )
                rest = F.log_softmax(out.logits.float(), -1).gather(2, ids[:, 1:, None])[..., 0]
                logp = logp + (rest * mask[:, 1:]).sum(1)
        return logp
