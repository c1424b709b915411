"""Real generation with SmolLM2-135M (slow: loads the model)."""

import numpy as np
import pytest
from benchbed_cascades import datasets
from benchbed_cascades.generate import Generator, generations, prompt

from benchbed import Context, lms
from benchbed.testing import require_asset

pytestmark = pytest.mark.slow


def test_generation_log_probs_match_a_teacher_forced_pass_and_are_cached(cache):
    import torch

    require_asset(lambda: lms.gguf_path("smollm2-135m"))
    ds = require_asset(datasets.load_quiz)
    questions = ds.questions[:3]
    ctx = Context(seed=0, plugin="cascades", show_progress=False)
    gens, info = generations(
        "smollm2-135m", ds, questions, ctx, "small", batch_size=3, max_new_tokens=8, threads=2
    )
    assert info["generated_now"] == 3 and info["latency_ms_per_question"] > 0
    assert [r.phase for r in ctx.timer.records] == ["generate-small"]
    gen = Generator("smollm2-135m", threads=2)
    for q, g in zip(questions, gens):
        assert (
            1 <= len(g.logprobs) <= 8
            and (g.logprobs <= 0).all()
            and len(g.tokens) == len(g.logprobs)
        )
        assert g.emb_final.shape == (576,) and g.emb_mid.shape == (576,)
        # the middle-layer embedding from the generation pass equals a prefill cut at that layer
        alone = gen._encode(ds, [q])
        cut, seconds = gen.mid_prefill(alone)
        assert seconds > 0 and np.allclose(cut[0], g.emb_mid, atol=1e-3, rtol=1e-3)
        # unbatched teacher forcing of the generated tokens gives the same log-probabilities
        ids = gen.tokenizer(prompt(ds, q), return_tensors="pt", add_special_tokens=False).input_ids
        out = torch.cat([ids, torch.tensor([g.tokens])], dim=1)
        with torch.no_grad():
            logits = gen.model(out).logits[0].log_softmax(-1)
        steps = range(ids.shape[1] - 1, out.shape[1] - 1)
        forced = np.array([float(logits[t, out[0, t + 1]]) for t in steps])
        assert np.allclose(forced, g.logprobs, atol=2e-3)
    again, info2 = generations(
        "smollm2-135m", ds, questions, ctx, "small", batch_size=3, max_new_tokens=8
    )
    assert info2["generated_now"] == 0
    assert [a.output for a in again] == [g.output for g in gens]
