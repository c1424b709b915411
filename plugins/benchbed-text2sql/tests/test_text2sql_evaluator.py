"""Judging: the error taxonomy, test-suite semantics over several instances, and VES."""

import shutil
import sqlite3

import pytest
from benchbed_text2sql.evaluator import CORRECT, WRONG_RESULT, GoldCache, judge, summarize
from benchbed_text2sql.sandbox import Sandbox


@pytest.fixture
def boxes(tiny_db, tmp_path):
    """Two instances of one schema: a query right by accident on the first is caught on the second."""
    second = tmp_path / "second.sqlite"
    shutil.copy(tiny_db, second)
    conn = sqlite3.connect(second)
    conn.execute("UPDATE singer SET age = 50 WHERE singer_id = 4")
    conn.commit()
    conn.close()
    opened = [Sandbox(tiny_db, timeout_s=0.5), Sandbox(second, timeout_s=0.5)]
    yield opened
    for box in opened:
        box.close()


GOLD = "SELECT name FROM singer WHERE age = 40"


@pytest.mark.parametrize(
    "pred, category",
    [
        ("SELECT name FROM singer WHERE age = 40", CORRECT),
        ("select NAME from singer where 40 = age;", CORRECT),
        ("SELECT name FROM singer WHERE age >= 40", WRONG_RESULT),  # right on the first only
        ("SELECT name FROM singer WHERE age > 30", WRONG_RESULT),
        ("SELECT name FROM singer WHERE", "syntax_error"),
        ("SELECT nme FROM singer", "runtime_error"),
        ("DROP TABLE singer", "runtime_error"),
        (
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r) SELECT max(n) FROM r",
            "timeout",
        ),
    ],
)
def test_error_taxonomy_and_test_suite(boxes, pred, category):
    verdict = judge(GOLD, pred, boxes, ves_repeats=1)
    assert verdict.category == category
    assert (verdict.ves > 0) == (category == CORRECT)


def test_first_instance_alone_would_accept_the_accidental_query(boxes):
    assert judge(GOLD, "SELECT name FROM singer WHERE age >= 40", boxes[:1], ves_repeats=0).correct


def test_ordered_gold_requires_the_order(boxes):
    gold = "SELECT name FROM singer ORDER BY age DESC, name"
    assert judge(
        gold, "SELECT name FROM singer ORDER BY age DESC, name", boxes, ves_repeats=0
    ).correct
    assert not judge(
        gold, "SELECT name FROM singer ORDER BY age, name", boxes, ves_repeats=0
    ).correct
    # without ORDER BY in gold, any order of the same multiset is right
    assert judge(
        "SELECT name FROM singer",
        "SELECT name FROM singer ORDER BY name DESC",
        boxes,
        ves_repeats=0,
    ).correct


def test_ves_punishes_a_slow_correct_query(boxes):
    slow = (
        "SELECT name FROM singer WHERE age = 40 AND (SELECT count(*) FROM "
        "(WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 200000) SELECT n FROM r)) > 0"
    )
    fast = judge(GOLD, GOLD, boxes, ves_repeats=5)
    slow_verdict = judge(GOLD, slow, boxes, ves_repeats=5)
    assert slow_verdict.correct
    assert slow_verdict.ves < 0.3 < fast.ves


def test_gold_results_are_computed_once(boxes):
    cache = GoldCache()
    judge(GOLD, GOLD, boxes, gold_cache=cache, ves_repeats=0)
    before = [b.queries for b in boxes]
    judge(GOLD, "SELECT 1", boxes, gold_cache=cache, ves_repeats=0)
    assert [b.queries for b in boxes] == [before[0] + 1, before[1]]  # only the prediction ran


def test_summary_per_hardness_level():
    from benchbed_text2sql.evaluator import Verdict

    verdicts = [
        Verdict(CORRECT, True, 1.0),
        Verdict(WRONG_RESULT, False, 0.0),
        Verdict("timeout", False, 0.0),
    ]
    metrics, table = summarize(verdicts, ["easy", "easy", "hard"])
    assert metrics["execution_accuracy"].value == pytest.approx(1 / 3)
    assert metrics["execution_accuracy_easy"].value == 0.5
    assert metrics["execution_accuracy_hard"].value == 0.0
    assert "execution_accuracy_medium" not in metrics
    assert metrics["timeout_rate"].samples == [0.0, 0.0, 1.0]
    assert table["easy"]["wrong_result"] == 1 and table["all"]["questions"] == 3
