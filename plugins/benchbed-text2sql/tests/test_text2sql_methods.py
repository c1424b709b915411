"""Gold oracle and retrieval baseline through the real task loop; value swapping."""

import pytest
from benchbed_text2sql import tasks
from benchbed_text2sql.methods.gold import GoldOracle
from benchbed_text2sql.methods.retrieval import swap_values
from text2sql_helpers import need


@pytest.mark.parametrize(
    "sql, old, new, expected",
    [
        (
            "SELECT count(*) FROM c WHERE country = 'Brazil'",
            "How many live in Brazil?",
            "How many live in Germany?",
            "SELECT count(*) FROM c WHERE country = 'Germany'",
        ),
        (
            "SELECT name FROM s WHERE age > 40 LIMIT 3",
            "Top 3 singers older than 40",
            "Top 5 singers older than 33",
            "SELECT name FROM s WHERE age > 33 LIMIT 5",
        ),
        (
            "SELECT x FROM t WHERE title = 'Let There Be Rock'",
            "Tracks on 'Let There Be Rock'?",
            "Tracks on 'Big Ones'?",
            "SELECT x FROM t WHERE title = 'Big Ones'",
        ),
        (
            "SELECT x FROM t WHERE name LIKE '%Love%'",
            "Names with the word Love",
            "Names with the word Rain",
            "SELECT x FROM t WHERE name LIKE '%Rain%'",
        ),
        (
            "SELECT x FROM t WHERE name = 'Ann'",
            "Who is Ann?",
            "Who is O'Hara?",
            "SELECT x FROM t WHERE name = 'O''Hara'",
        ),
        (
            "SELECT x FROM t WHERE y = 7",
            "Which are seven?",
            "Which are eight?",
            "SELECT x FROM t WHERE y = 7",
        ),
    ],
)
def test_swap_values(sql, old, new, expected):
    assert swap_values(sql, old, new) == expected


def test_gold_oracle_scores_100_percent_on_chinook(ctx):
    task = tasks.all_tasks()[0]
    assert task.name == "text2sql/chinook"
    need(tasks.chinook, ctx)
    result = task.evaluate(GoldOracle(), ctx)
    for name in ("execution_accuracy", "exact_set_match"):
        assert result.metrics[name].value == 1.0
    assert result.metrics["valid_efficiency_score"].value == pytest.approx(1.0, abs=0.25)
    assert result.artifacts["gold_non_empty"]["on_every_instance"] == 91


def test_gold_oracle_scores_100_percent_on_spider_generated(ctx):
    task = next(t for t in tasks.all_tasks() if t.name == "text2sql/spider-dev/generated")
    need(tasks.spider_generated, ctx)
    result = task.evaluate(GoldOracle(), ctx)
    assert result.metrics["execution_accuracy"].value == 1.0
    assert result.metrics["exact_set_match"].value == 1.0
    assert result.metrics["execution_accuracy_extra"].value == 1.0


def test_a_broken_model_scores_zero_with_the_right_categories(ctx):
    class Typos(GoldOracle):
        def predict(self, item):
            return item.gold.replace("SELECT", "SELEC", 1)

    task = tasks.Text2SQLTask("t", "", tasks.chinook, per_level=2)
    need(tasks.chinook, ctx)
    result = task.evaluate(Typos(), ctx)
    assert result.metrics["execution_accuracy"].value == 0.0
    assert result.metrics["syntax_error_rate"].value == 1.0


def test_retrieval_baseline_never_returns_its_own_gold(ctx):
    pytest.importorskip("transformers")
    from benchbed_text2sql.methods.retrieval import NearestQuestion

    from benchbed.assets import MissingAsset

    bench = need(tasks.chinook, ctx)
    model = NearestQuestion()
    try:
        model.fit(bench.examples, ctx)
    except MissingAsset as exc:
        pytest.skip(str(exc))
    items = tasks.Text2SQLTask("t", "", tasks.chinook).items(bench)
    for item in items:
        neighbour = model.nearest(item)
        assert neighbour.id not in item.excluded
    # an easy check of the embedding: a near-paraphrase is found first
    by_text = {i.question: i for i in items}
    probe = by_text["How many customers live in Brazil?"]
    assert model.nearest(probe).question.startswith("How many")


def test_a_hostile_model_through_the_task_leaves_chinook_byte_identical(ctx):
    """Every hostile query of test_text2sql_sandbox.py as a model's answer, through the whole task."""
    import hashlib

    from test_text2sql_sandbox import HOSTILE

    bench = need(tasks.chinook, ctx)
    path = bench.instances["chinook"][0]
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    class Hostile(GoldOracle):
        def predict(self, item):
            return (
                HOSTILE[item.id % len(HOSTILE)]
                .replace("singer", "Artist")
                .replace("concert", "Album")
            )

    task = tasks.Text2SQLTask("t", "", tasks.chinook, per_level=7, timeout_s=0.3)
    result = task.evaluate(Hostile(), ctx)
    assert result.metrics["execution_accuracy"].value == 0.0
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
