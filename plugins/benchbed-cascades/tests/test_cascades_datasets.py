import pytest
from benchbed_cascades import datasets
from benchbed_cascades.datasets import Question, canonical, expand, quality

from benchbed.testing import require_asset


def test_quiz_pattern_language():
    assert expand("Vienna|Wien") == ["Vienna", "Wien"]
    assert expand("{G{eorge} }Washington") == ["George Washington", "G Washington", "Washington"]
    assert expand("Andorra la V[ell|iej]a") == ["Andorra la Vella", "Andorra la Vieja"]
    assert canonical("W[illia|]m [I|1|the Conqueror]") == "William I"
    assert canonical("Cal{if{ornia}}|CA") == "California"


def test_exact_match_after_normalisation_accepts_listed_alternatives():
    q = Question("x", "Capital of Austria?", tuple(expand("Vienna|Wien")))
    assert quality(q, "Vienna") == 1.0
    assert (
        quality(q, " wien.\nQuestion: next") == 1.0
    )  # first line only, punctuation and case ignored
    assert quality(q, "The capital is Vienna") == 0.0  # exact match, not containment
    article = Question("y", "Who killed Cock Robin?", tuple(expand("{the }sparrow")))
    assert quality(article, "A sparrow") == 1.0


def test_numeric_match_for_arithmetic():
    q = Question("z", "Calculate 2 - 5.", ("-3",), numeric=True)
    assert quality(q, "-3") == 1.0
    assert quality(q, "2 - 5 = -3") == 1.0
    assert quality(q, "-3.0000") == 1.0
    assert quality(q, "3") == 0.0
    assert quality(q, "minus three") == 0.0
    assert quality(Question("w", "big", ("1,234",), numeric=True), "1234") == 1.0


def test_quiz_loader_reads_the_bsdgames_files():
    ds = require_asset(datasets.load_quiz)
    assert len(ds.questions) > 900
    assert len({q.id for q in ds.questions}) == len(ds.questions)
    by_text = {q.question: q for q in ds.questions}
    austria = by_text["What is the capital of Austria?"]
    assert quality(austria, "Wien") == 1.0 and quality(austria, "Vienna") == 1.0
    assert datasets.load_quiz().questions[:5] == ds.questions[:5]  # a fixed order


def test_fanoutqa_single_hop_sub_questions():
    ds = require_asset(datasets.load_fanoutqa)
    assert len(ds.questions) > 1000
    assert all(q.answers and q.answers[0] for q in ds.questions)
    assert any(q.question == "What is the batting hand of Pat Burrell?" for q in ds.questions)


def test_reasoning_gym_arithmetic():
    ds = require_asset(lambda: datasets.load_arithmetic(50))
    assert len(ds.questions) == 50 and all(q.numeric for q in ds.questions)
    q = ds.questions[0]
    assert quality(q, q.answers[0]) == 1.0


def test_missing_package_names_its_install_command(monkeypatch):
    from benchbed.assets import MissingAsset

    monkeypatch.setattr(datasets, "QUIZ_DIR", "/nonexistent/quiz")
    with pytest.raises(MissingAsset, match="apt-get install bsdgames"):
        datasets.load_quiz()
