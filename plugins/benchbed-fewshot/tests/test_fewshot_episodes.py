import numpy as np
import pytest
from benchbed_fewshot.episodes import ClassSplit, sample_episodes, split_classes

from benchbed import BenchbedError

LABELS = np.repeat(np.arange(12), 30)


def draw(seed=0, classes=range(12), n=5, k=2, q=4, e=200, labels=LABELS):
    return sample_episodes(labels, list(classes), n, k, q, e, np.random.default_rng(seed))


def test_same_seed_same_episodes_and_other_seed_others():
    a, b, c = draw(0), draw(0), draw(1)
    assert np.array_equal(a.support, b.support) and np.array_equal(a.query, b.query)
    assert not np.array_equal(a.support, c.support)


def test_episode_structure():
    idx = draw()
    assert idx.support.shape == (200, 5, 2) and idx.query.shape == (200, 20)
    for e in range(idx.episodes):
        ways = LABELS[idx.support[e]]  # (N, K): every shot of a way is of that way's class
        assert (ways == ways[:, :1]).all() and len(set(ways[:, 0])) == 5
        assert np.array_equal(LABELS[idx.query[e]], ways[idx.query_labels[e], 0])
        assert np.bincount(idx.query_labels[e], minlength=5).tolist() == [4] * 5
        items = np.concatenate([idx.support[e].ravel(), idx.query[e]])
        assert len(set(items)) == len(items)  # support and queries never share an item


def test_episodes_stay_in_their_classes_and_cover_them_uniformly():
    idx = draw(classes=[3, 5, 7, 9, 11, 0], e=3000)
    drawn = LABELS[idx.support[:, :, 0]].ravel()
    assert set(drawn) == {3, 5, 7, 9, 11, 0}
    counts = np.bincount(drawn, minlength=12)[[3, 5, 7, 9, 11, 0]]
    assert counts.min() > 0.9 * counts.mean()  # each class in about 5/6 of the episodes


def test_queries_are_shuffled_within_episodes():
    idx = draw()
    assert not all(np.array_equal(row, np.sort(row)) for row in idx.query_labels)


def test_too_few_classes_or_items_is_a_clear_error():
    with pytest.raises(BenchbedError, match="5-way episodes need 5 classes"):
        draw(classes=[0, 1, 2])
    with pytest.raises(BenchbedError, match="need 31 items per class"):
        draw(k=1, q=30)


def test_split_is_disjoint_fixed_and_proportional():
    names = [f"class{i}" for i in range(100)]
    s = split_classes(names)
    assert (len(s.base), len(s.validation), len(s.novel)) == (64, 16, 20)
    assert split_classes(list(reversed(names))) == s  # does not depend on input order
    assert not set(s.base) & set(s.novel) and not set(s.validation) & set(s.novel)
    assert s.for_split("validation") == s.validation and s.for_split("test") == s.novel
    with pytest.raises(BenchbedError):
        s.for_split("train")
    with pytest.raises(BenchbedError, match="not disjoint"):
        ClassSplit(base=("a", "b"), validation=("c",), novel=("b",))
    with pytest.raises(BenchbedError, match="too few"):
        split_classes(["a", "b"])
