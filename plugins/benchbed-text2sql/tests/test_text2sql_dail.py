"""DAIL-SQL's selection: query skeletons, their Jaccard similarity and the ranking rule,
on hand-made queries and scores (no model)."""

from pathlib import Path

import numpy as np
import pytest
from benchbed_text2sql.datasets import Example
from benchbed_text2sql.methods import dail
from benchbed_text2sql.methods.llm import CausalLMSQL, DraftCache
from benchbed_text2sql.sqlinfo import skeleton, skeleton_similarity
from benchbed_text2sql.tasks import Item


@pytest.mark.parametrize(
    "sql, expected",
    [
        ("SELECT count(*) FROM singer WHERE age > 30", "select count ( _ ) from _ where _"),
        # aliases, join chain and join conditions collapse to one table slot
        (
            "SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.singer_id = T2.singer_id "
            "WHERE T2.year = 2014 AND T1.country = 'France'",
            "select _ from _ where _",
        ),
        # a list of columns is one slot; ORDER BY without direction is ascending
        ("SELECT name, country, age FROM singer ORDER BY age", "select _ from _ order by _ asc"),
        (
            "select name from singer order by age desc limit 3;",
            "select _ from _ order by _ desc limit _",
        ),
        ("SELECT name FROM singer WHERE age = -5 OR age < 2.5", "select _ from _ where _"),
        (
            "SELECT name FROM singer WHERE singer_id NOT IN (SELECT singer_id FROM concert)",
            "select _ from _ where _ not in ( select _ from _ )",
        ),
        (
            "SELECT a FROM (SELECT a, b, c FROM u ORDER BY a) ORDER BY b, c DESC LIMIT 2",
            "select _ from ( select _ from _ order by _ asc ) order by _ asc , _ desc limit _",
        ),
        (
            'SELECT "name" FROM singer GROUP BY country HAVING count(*) >= 2',
            "select _ from _ group by _ having count ( _ ) >= _",
        ),
    ],
)
def test_skeleton_masks_names_and_values(sql, expected):
    assert skeleton(sql) == expected


def test_skeleton_ignores_schema_and_values_but_not_structure():
    a = "SELECT Name FROM Artist WHERE ArtistId = 3"
    assert skeleton(a) == skeleton("select title from album where albumid = 'x'")
    assert skeleton(a) != skeleton("SELECT Name FROM Artist ORDER BY ArtistId LIMIT 3")


def test_skeleton_similarity_is_multiset_jaccard():
    # {select, _, from, _} vs {select, count, (, _, ), from, _}: 4 shared, union 4 + 7 - 4
    assert skeleton_similarity("select _ from _", "select count ( _ ) from _") == pytest.approx(
        4 / 7
    )
    assert skeleton_similarity("select _ from _", "select _ from _") == 1.0
    assert skeleton_similarity("select _ from _", "limit") == 0.0
    a, b = "select _ from _ where _", "select _ from _ order by _ asc"
    # 6 and 8 tokens, 5 shared (select, from, three `_`): 5 / (6 + 8 - 5)
    assert skeleton_similarity(a, b) == skeleton_similarity(b, a) == pytest.approx(5 / 9)


def test_selection_orders_by_question_and_keeps_queries_above_threshold():
    scores = [0.9, 0.8, 0.7, 0.6, 0.5]
    query = [0.2, 0.9, 0.1, 0.86, 0.85]
    assert dail.select(scores, query, 2) == [1, 3]
    # the threshold is inclusive (their code skips only similarities below it)
    assert dail.select(scores, query, 3) == [1, 3, 4]
    # too few qualify: the rest are the most question-similar of the others
    assert dail.select(scores, query, 4) == [1, 3, 4, 0]
    assert dail.select(scores, query, 9) == [1, 3, 4, 0, 2]
    # no draft information (all similar): plain question-similarity order
    assert dail.select(scores, [1.0] * 5, 3) == [0, 1, 2]
    assert dail.select(scores, query, 2, threshold=0.95) == [0, 1]


def test_selection_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="5 question scores but 4"):
        dail.select([0.1] * 5, [0.1] * 4, 2)


class _Encoder:
    """Masked question -> a fixed unit vector: the closer the index, the more similar."""

    def __init__(self, vectors):
        self.vectors = vectors

    def encode(self, texts):
        return np.stack([self.vectors[t] for t in texts])


class _Drafted(CausalLMSQL):
    def draft_query(self, item):
        return "SELECT count(*) FROM singer WHERE age > 30"


def _unit(angle):
    return np.array([np.cos(angle), np.sin(angle)], dtype=np.float32)


def test_dail_demonstrations_prefer_queries_like_the_draft():
    pool = [
        Example(1, "db", "q one", "SELECT name FROM singer"),
        Example(2, "db", "q two", "SELECT name FROM singer ORDER BY age"),
        Example(3, "db", "q three", "SELECT count(*) FROM concert WHERE year = 2014"),
        Example(4, "db", "q four", "SELECT count(*) FROM singer WHERE country = 'x'"),
        Example(5, "db", "q five", "SELECT count(*) FROM singer WHERE age < 20"),
    ]
    target = Item(
        9, "db", "target", "easy", "CREATE TABLE t (x TEXT)", Path("x"), "", frozenset({5})
    )
    vectors = {"target": _unit(0.0)}
    vectors.update({e.question: _unit(0.1 * e.id) for e in pool})  # q one is the closest
    plain = CausalLMSQL(shots=2)
    dail_lm = _Drafted(shots=2, draft="zero-shot")
    for lm in (plain, dail_lm):
        lm.pool, lm._encoder, lm._demo_index = pool, _Encoder(vectors), {}
    # question similarity alone: q one, q two; shown most similar last
    assert [d.id for d in plain._demonstrations(target)] == [2, 1]
    # the draft's skeleton matches q three and q four (q five is excluded as a paraphrase)
    assert [d.id for d in dail_lm._demonstrations(target)] == [4, 3]
    assert dail_lm.stats["qualified"] == 2


def test_unknown_draft_source_is_refused():
    with pytest.raises(ValueError, match="draft='gold'"):
        CausalLMSQL(shots=4, draft="gold")


def test_draft_cache_keys_on_prompt_and_token_budget(tmp_path):
    cache = DraftCache(tmp_path, "some/local-model", 128)
    assert cache.get("prompt") is None
    cache.put("prompt", "SELECT 1")
    assert DraftCache(tmp_path, "some/local-model", 128).get("prompt") == "SELECT 1"
    assert DraftCache(tmp_path, "some/local-model", 64).get("prompt") is None
    assert DraftCache(tmp_path, "other/model", 128).get("prompt") is None
