"""Chunked pre-generation: both models take turns, cached questions are skipped (fake models)."""

import numpy as np
import pytest
from benchbed_cascades import datasets, generate, pregenerate, tasks
from benchbed_cascades.generate import Generation, GenerationCache

from benchbed import BenchbedError, Context
from benchbed.testing import require_asset


class FakeGenerator:
    calls: list = []

    def __init__(self, model, device="cpu", threads=0):
        self.name, self.load_seconds, self.layers, self.mid_layer = model, 0.0, [0] * 4, 2
        self.device, self.threads = device, threads

    def run(self, dataset, batch, max_new_tokens, mid_seconds=None):
        FakeGenerator.calls.append((self.name, [q.id for q in batch]))
        outs = [
            Generation(
                self.name, np.log([0.5, 0.9]), np.zeros(3), np.zeros(2), 0.1, 0.01, len(batch)
            )
            for _ in batch
        ]
        return outs, 0.01

    def new_tokens(self, gens):
        return sum(len(g.logprobs) for g in gens)


def test_models_alternate_by_chunk_and_skip_cached_questions(cache, monkeypatch):
    monkeypatch.setattr(generate, "Generator", FakeGenerator)
    FakeGenerator.calls = []
    task = next(t for t in tasks.all_tasks() if t.name == "cascades/quiz-40/smol135m-qwen0.5b")
    ds = require_asset(lambda: datasets.load("quiz"))
    ids = [q.id for q in ds.questions[:40]]
    ctx = Context(seed=0, plugin="cascades", show_progress=False)
    small = GenerationCache(ctx.cache_dir / "generations", task.small, ds, tasks.MAX_NEW_TOKENS)
    for qid in ids[:4]:  # already generated earlier
        small.put(qid, Generation("kept", np.log([0.7]), np.zeros(3), np.zeros(2), 1.0, 0.1, 8))
    small.save()

    pregenerate.pregenerate(task.name, chunk=16, threads=1)

    order = [(model, batch[0], len(batch)) for model, batch in FakeGenerator.calls]
    s, g = task.small, task.large
    assert order == [
        (s, ids[4], 8), (s, ids[12], 4), (g, ids[0], 8), (g, ids[8], 8),
        (s, ids[16], 8), (s, ids[24], 8), (g, ids[16], 8), (g, ids[24], 8),
        (s, ids[32], 8), (g, ids[32], 8),
    ]  # fmt: skip
    for model in (s, g):
        stored = GenerationCache(ctx.cache_dir / "generations", model, ds, tasks.MAX_NEW_TOKENS)
        assert all(stored.get(q) is not None for q in ids)
        assert stored.meta["runs"][-1]["by"] == "pregenerate"
    small = GenerationCache(ctx.cache_dir / "generations", s, ds, tasks.MAX_NEW_TOKENS)
    assert small.get(ids[0]).output == "kept" and small.get(ids[4]).output == s


def test_unknown_task_is_refused(cache):
    with pytest.raises(BenchbedError, match="unknown cascades task"):
        pregenerate.pregenerate("cascades/nope/smol135m-qwen0.5b", chunk=8, threads=1)
