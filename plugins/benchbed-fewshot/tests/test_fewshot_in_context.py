"""In-context LM classification: prompts and demonstration order (with a stand-in scorer,
fast), and the real SmolLM2 scorer (slow)."""

import pytest
import torch
from benchbed_fewshot.episodes import EpisodeBatch
from benchbed_fewshot.methods import in_context_lm
from benchbed_fewshot.methods.in_context_lm import InContextLM
from benchbed_fewshot.methods.lm_scorer import Prefix

from benchbed import BenchbedError


class CharLM:
    """One token per character; a candidate scores 1 when its name is in the query text."""

    def __init__(self):
        self.prefixes, self.prompts = [], []

    def tokens(self, text, limit=None):
        ids = [ord(c) for c in text]
        return ids[:limit] if limit else ids

    def decode(self, ids):
        return "".join(map(chr, ids))

    def cache_prefix(self, ids):
        self.prefixes.append(self.decode(ids))
        return Prefix(ids)

    def score_prompts(self, prefix, prompts, candidates, tokens_per_pass=1024):
        self.prompts += [self.decode(prefix.ids + prompt) for prompt in prompts]
        query = [self.decode(prompt).rsplit("Text: ", 1)[-1] for prompt in prompts]
        return torch.tensor(
            [[float(self.decode(c).strip() in q) for c in candidates] for q in query]
        )


@pytest.fixture
def char_lm(monkeypatch):
    lm = CharLM()
    monkeypatch.setitem(in_context_lm._SCORERS, ("char", "cpu"), lm)
    return lm


def text_batch():
    """One 3-way 1-shot episode; query q is nearest (in features) to support item q."""
    support = torch.eye(3).unsqueeze(0)
    query = torch.tensor([[[0.9, 0.1, 0.0], [0.0, 0.2, 0.9], [0.1, 0.9, 0.0]]])
    batch = EpisodeBatch(support, torch.tensor([[0, 1, 2]]), query, 3, 1)
    batch.label_names = [["fruit", "vehicle", "weather"]]
    batch.support_texts = [["an apple", "a boat", "a   cloud\nin the sky"]]
    batch.query_texts = [["vehicle on rails", "fruit salad", "weather report"]]
    return batch


def test_labels_are_scored_after_the_demonstrations(char_lm):
    predicted = InContextLM(lm="char").predict(text_batch())
    assert predicted.tolist() == [[1, 0, 2]]  # the stand-in scorer's obvious answers
    assert len(char_lm.prefixes) == 1  # one prefix per episode, shared by its queries
    prefix = char_lm.prefixes[0]
    assert prefix.startswith("Classify each text as one of: fruit, vehicle, weather.\n\n")
    for demo in ("Text: an apple\nCategory: fruit\n\n", "Text: a boat\nCategory: vehicle\n\n",
                 "Text: a cloud in the sky\nCategory: weather\n\n"):  # fmt: skip
        assert prefix.count(demo) == 1  # every support item once, whitespace collapsed
    assert all(p.startswith(prefix) and p.endswith("\nCategory:") for p in char_lm.prompts)


def test_retrieved_demonstrations_put_the_most_similar_last(char_lm):
    InContextLM(lm="char", order="retrieved").predict(text_batch())
    last = [p.rsplit("Category: ", 1)[0].rsplit("Text: ", 1)[-1] for p in char_lm.prompts]
    assert last == ["an apple\n", "a cloud in the sky\n", "a boat\n"]
    char_lm.prompts.clear()
    InContextLM(lm="char", order="retrieved", demonstrations=1).predict(text_batch())
    assert [p.count("Text: ") for p in char_lm.prompts] == [2, 2, 2]  # one demo + the query


def test_texts_are_cut_and_bad_settings_or_missing_texts_are_errors(char_lm):
    InContextLM(lm="char", max_text_tokens=4).predict(text_batch())
    assert "Text: an a\nCategory: fruit" in char_lm.prefixes[0]
    with pytest.raises(BenchbedError, match="demonstration order"):
        InContextLM(order="sorted")
    batch = text_batch()
    batch.support_texts = None
    with pytest.raises(BenchbedError, match="need the texts"):
        InContextLM(lm="char").predict(batch)


@pytest.fixture(scope="module")
def smollm():
    from benchbed import lms
    from benchbed.testing import require_asset

    require_asset(lambda: lms.gguf_path("smollm2-135m"))
    return in_context_lm.scorer("smollm2-135m", "cpu")


@pytest.mark.slow
def test_smollm_packed_scores_equal_separate_forward_passes(smollm):
    import torch.nn.functional as F

    prefix = smollm.tokens("Text: a domestic cat\nCategory: animal\n\n")
    prompts = [
        smollm.tokens(t)
        for t in ("Text: a small dog\nCategory:", "Text: hot soup with bread\nCategory:", "x")
    ]
    candidates = [smollm.tokens(f" {n}") for n in ("animal", "relational adjective", "change verb")]
    assert len(candidates[1]) > 1 and len(candidates[2]) > 1  # candidates must not see each other
    reference = torch.empty((len(prompts), len(candidates)))
    for p, prompt in enumerate(prompts):
        for c, cand in enumerate(candidates):
            with torch.no_grad():
                logits = smollm.model(torch.tensor([prefix + prompt + cand])).logits[0]
            logp = F.log_softmax(logits.float(), -1)
            start = len(prefix + prompt) - 1
            reference[p, c] = sum(logp[start + i, t].item() for i, t in enumerate(cand))
    cached = smollm.cache_prefix(prefix)
    packed = smollm.score_prompts(cached, prompts, candidates)  # one pass
    one_per_pass = smollm.score_prompts(cached, prompts, candidates, tokens_per_pass=1)
    assert cached.cache.get_seq_length() == len(prefix)  # the prefix is left reusable
    assert torch.allclose(packed, reference, atol=1e-3)
    assert torch.allclose(one_per_pass, reference, atol=1e-3)
    assert torch.allclose(smollm.score(prefix, prompts[0], candidates), reference[0], atol=1e-3)


@pytest.mark.slow
def test_smollm_classifies_an_obvious_case(smollm):
    batch = EpisodeBatch(torch.eye(3).unsqueeze(0), torch.tensor([[0, 1, 2]]),
                         torch.zeros(1, 3, 3), 3, 1)  # fmt: skip
    batch.label_names = [["animal", "food", "weather"]]
    batch.support_texts = [["a large dog that barks", "a bowl of hot soup", "heavy rain and wind"]]
    batch.query_texts = [
        ["a small cat that meows", "a slice of bread with butter", "snow and a cold storm"]
    ]
    assert InContextLM().predict(batch).tolist() == [[0, 1, 2]]
