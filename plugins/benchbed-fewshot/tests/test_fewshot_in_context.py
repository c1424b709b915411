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

    def score(self, prefix, prompt, candidates):
        ids = prefix.ids if isinstance(prefix, Prefix) else prefix
        self.prompts.append(self.decode(ids) + self.decode(prompt))
        query = self.decode(prompt)
        return torch.tensor([float(self.decode(c).strip() in query) for c in candidates])


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
    assert len(char_lm.prefixes) == 1  # random order: one prefix per episode, shared
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
def test_smollm_scores_equal_a_full_forward_pass_with_or_without_the_prefix_cache(smollm):
    import torch.nn.functional as F

    prefix = smollm.tokens("Text: a domestic cat\nCategory: animal\n\n")
    prompt = smollm.tokens("Text: a small dog\nCategory:")
    candidates = [smollm.tokens(" animal"), smollm.tokens(" relational adjective")]
    plain = smollm.score(prefix, prompt, candidates)
    cached = smollm.score(smollm.cache_prefix(prefix), prompt, candidates)
    reference = []
    for c in candidates:
        with torch.no_grad():
            logits = smollm.model(torch.tensor([prefix + prompt + c])).logits[0]
        logp = F.log_softmax(logits.float(), -1)
        start = len(prefix + prompt) - 1
        reference.append(sum(logp[start + i, t].item() for i, t in enumerate(c)))
    assert torch.allclose(plain, torch.tensor(reference), atol=1e-3)
    assert torch.allclose(cached, plain, atol=1e-3)


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
