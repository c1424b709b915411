"""LM prompting: answer parsing, DAIL masking, voting (fast); real Qwen runs (slow)."""

import pytest
from benchbed_text2sql import tasks
from benchbed_text2sql.methods.llm import extract_sql, masked_question, schema_words, vote
from text2sql_helpers import need


@pytest.mark.parametrize(
    "answer, sql",
    [
        ("```sql\nSELECT name FROM singer;\n```", "SELECT name FROM singer"),
        ("SELECT count(*) FROM t; -- done", "SELECT count(*) FROM t"),
        (
            "Here is the query:\n```\nWITH a AS (SELECT 1) SELECT * FROM a\n```\nIt works.",
            "WITH a AS (SELECT 1) SELECT * FROM a",
        ),
        ("The answer is SELECT 1", "SELECT 1"),
        ("```sql\nSELECT x\nFROM t", "SELECT x\nFROM t"),
    ],
)
def test_extract_sql(answer, sql):
    assert extract_sql(answer) == sql


def test_dail_masking_hides_schema_words_and_values():
    words = schema_words('CREATE TABLE singer ("Singer_ID" NUMERIC, Country TEXT, song_name TEXT)')
    masked = masked_question("How many singers from 'France' are older than 30?", words)
    assert masked == "How many <mask> from <unk> are older than <unk> ?".replace(" ?", "")
    assert "<mask>" in masked_question("List the song names", words)


def test_vote_takes_the_largest_agreeing_group(tiny_db):
    candidates = [
        "SELECT name FROM singer WHERE age > 35",  # Bob, Dee
        "SELECT nme FROM singer",  # fails: no vote
        "SELECT name FROM singer WHERE age >= 40",  # Bob, Dee again
        "SELECT name FROM singer",
        "SELEC broken",
    ]
    assert vote(candidates, tiny_db) == candidates[0]
    assert vote(["SELECT nme FROM singer", "SELEC x"], tiny_db) == "SELECT nme FROM singer"
    # a tie goes to the earliest sample
    assert vote(["SELECT 1", "SELECT 2"], tiny_db) == "SELECT 1"


def _qwen_or_skip(name):
    from benchbed import lms
    from benchbed.assets import MissingAsset

    pytest.importorskip("gguf", reason="pip install gguf accelerate")
    try:
        lms.gguf_path(name)
    except MissingAsset as exc:
        pytest.skip(str(exc))


@pytest.mark.slow
@pytest.mark.parametrize("shots, samples", [(0, 1), (2, 2)])
def test_qwen_05b_answers_chinook_questions(ctx, shots, samples):
    """Two easy questions (about 1-3 minutes on 2 shared CPU cores): valid, runnable SQL."""
    from benchbed_text2sql.evaluator import judge
    from benchbed_text2sql.methods.llm import CausalLMSQL
    from benchbed_text2sql.sandbox import Sandbox

    from benchbed import seed_everything

    _qwen_or_skip("qwen2.5-coder-0.5b")
    seed_everything(0)
    bench = need(tasks.chinook, ctx)
    items = [
        i for i in tasks.Text2SQLTask("t", "", tasks.chinook).items(bench) if i.hardness == "easy"
    ][:2]
    model = CausalLMSQL("qwen2.5-coder-0.5b", shots=shots, samples=samples, max_new_tokens=48)
    model.fit(bench.examples, ctx)
    if shots:
        demos = model._demonstrations(items[0])
        assert len(demos) == shots and all(d.id not in items[0].excluded for d in demos)
    with Sandbox(items[0].db_path) as box:
        verdicts = [judge(i.gold, model.predict(i), [box], ves_repeats=0) for i in items]
    assert all(v.category in ("correct", "wrong_result") for v in verdicts), verdicts
    assert any(v.correct for v in verdicts)
    assert model.stats["generated_tokens"] > 0 and model.stats["tokens_per_second"] > 0
