"""Score candidate continuations of prompts by a causal LM's log-likelihood.

`LMScorer.score_prompts(prefix, prompts, candidates)` returns log p(candidate | prefix + prompt)
for every prompt and candidate: the sum of the candidate's token log-probabilities. The prefix
(`cache_prefix`: the instructions, or an episode's demonstrations in random order) is run once
and its key/value cache shared. The prompts that follow it are packed into one sequence per
pass, each followed by every candidate, under an attention mask that lets a prompt see only the
prefix and itself, and a candidate only the prefix, its prompt and itself; positions restart
after the prefix for every prompt and after its prompt for every candidate. One pass thus
scores many prompts without copying the prefix's cache, and gives what a separate forward
pass over prefix + prompt + candidate gives (tested). Prefix, prompt and candidates are
tokenised separately and concatenated.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from benchbed import lms


@dataclass
class Prefix:
    ids: list[int]
    cache: Any = None  # the model's key/value cache after `ids`


class LMScorer:
    def __init__(self, name: str = "smollm2-135m", device: str = "cpu"):
        self.name, self.device = name, device
        self.tokenizer, self.model = lms.load(name, device)
        # transformers renamed the cache argument (`past_key_values` is deprecated in 5.x)
        parameters = inspect.signature(self.model.forward).parameters
        self.cache_argument = "cache" if "cache" in parameters else "past_key_values"

    def tokens(self, text: str, limit: int | None = None) -> list[int]:
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        return ids[:limit] if limit else ids

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids)

    def cache_prefix(self, ids: list[int]) -> Prefix:
        import torch

        if not ids:
            raise ValueError("the prefix needs at least one token")
        with torch.no_grad():
            out = self.model(
                input_ids=torch.tensor([ids], device=self.device), use_cache=True, logits_to_keep=1
            )
        return Prefix(list(ids), getattr(out, self.cache_argument))

    def score(self, prefix: Prefix | list[int], prompt: list[int], candidates: list[list[int]]):
        """(len(candidates),) summed log-probabilities of each candidate after prefix + prompt."""
        if not isinstance(prefix, Prefix):
            prefix = self.cache_prefix(list(prefix))
        return self.score_prompts(prefix, [prompt], candidates)[0]

    def score_prompts(
        self,
        prefix: Prefix,
        prompts: list[list[int]],
        candidates: list[list[int]],
        tokens_per_pass: int = 1024,
    ):
        """(len(prompts), len(candidates)) summed log-probabilities, prompts packed per pass."""
        import torch

        if any(not c for c in candidates) or any(not p for p in prompts):
            raise ValueError("every prompt and every candidate need at least one token")
        tails = sum(len(c) - 1 for c in candidates)
        scores = torch.empty((len(prompts), len(candidates)))
        start = 0
        while start < len(prompts):
            stop, length = start + 1, len(prompts[start]) + tails
            while stop < len(prompts) and length + len(prompts[stop]) + tails <= tokens_per_pass:
                length += len(prompts[stop]) + tails
                stop += 1
            scores[start:stop] = self._score_packed(prefix, prompts[start:stop], candidates)
            start = stop
        return scores

    def _score_packed(self, prefix: Prefix, prompts, candidates):
        import torch
        import torch.nn.functional as F

        # pack: prompt tokens (candidate -1), then each candidate's tokens but its last
        ids, positions, prompt_of, candidate_of = [], [], [], []
        predictors, targets = [], []  # per (prompt, candidate): packed rows and token ids
        for p, prompt in enumerate(prompts):
            base = len(ids)
            ids += prompt
            positions += range(len(prompt))
            prompt_of += [p] * len(prompt)
            candidate_of += [-1] * len(prompt)
            for c, cand in enumerate(candidates):
                tail = len(ids)
                ids += cand[:-1]
                positions += range(len(prompt), len(prompt) + len(cand) - 1)
                prompt_of += [p] * (len(cand) - 1)
                candidate_of += [c] * (len(cand) - 1)
                predictors.append(
                    [base + len(prompt) - 1] + list(range(tail, tail + len(cand) - 1))
                )
                targets.append(cand)
        n, offset = len(ids), len(prefix.ids)
        pid, cid = torch.tensor(prompt_of), torch.tensor(candidate_of)
        visible = (
            torch.ones((n, n), dtype=torch.bool).tril()
            & (pid[:, None] == pid[None, :])
            & ((cid[None, :] == -1) | (cid[:, None] == cid[None, :]))
        )
        mask = torch.cat([torch.ones((n, offset), dtype=torch.bool), visible], 1)
        keep = sorted({r for rows in predictors for r in rows})
        row_of = {r: i for i, r in enumerate(keep)}
        with torch.no_grad():
            try:
                out = self.model(
                    input_ids=torch.tensor([ids], device=self.device),
                    position_ids=torch.tensor([positions], device=self.device) + offset,
                    attention_mask=mask[None, None].to(self.device),
                    **{self.cache_argument: prefix.cache},
                    use_cache=True,
                    logits_to_keep=torch.tensor(keep, device=self.device),
                )
            finally:  # drop the packed tokens: the prefix stays reusable
                extra = prefix.cache.get_seq_length() - offset
                if extra:
                    prefix.cache.crop(-extra)
            logp = F.log_softmax(out.logits[0].float(), -1).cpu()
        sums = [
            sum(logp[row_of[r], t].item() for r, t in zip(rows, cand))
            for rows, cand in zip(predictors, targets)
        ]
        return torch.tensor(sums).view(len(prompts), len(candidates))
