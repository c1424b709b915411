"""The data: Chinook built from the fixture, our question set, and the generated instances."""

import sqlite3
from collections import Counter

import pytest
from benchbed_text2sql import tasks
from benchbed_text2sql.sandbox import Sandbox
from text2sql_helpers import need


@pytest.fixture(scope="module")
def chinook(ctx):
    return need(tasks.chinook, ctx)


@pytest.fixture(scope="module")
def spider(ctx):
    return need(tasks.spider_generated, ctx)


def test_chinook_is_the_canonical_data(chinook):
    with Sandbox(chinook.instances["chinook"][0]) as box:
        counts = {
            t: box.execute(f'SELECT count(*) FROM "{t}"').rows[0][0]
            for t in chinook.databases["chinook"].tables
        }
        iron_maiden = box.execute(
            "SELECT count(*) FROM Track JOIN Album USING (AlbumId) JOIN Artist USING (ArtistId) "
            "WHERE Artist.Name = 'Iron Maiden'"
        ).rows
    assert sum(counts.values()) == 15607
    assert counts["Track"] == 3503 and counts["PlaylistTrack"] == 8715
    assert iron_maiden == [(213,)]


def test_chinook_questions_span_all_levels_and_return_rows(chinook):
    examples = chinook.examples
    assert len(examples) >= 80
    assert len({e.question for e in examples}) == len(examples)
    levels = Counter(e.hardness for e in examples)
    assert all(levels[level] >= 10 for level in ("easy", "medium", "hard", "extra")), levels
    with Sandbox(chinook.instances["chinook"][0]) as box:
        for e in examples:
            got = box.execute(e.gold)
            assert got.ok and got.rows, e.question


def test_spider_dev_all_questions_on_all_instances(spider):
    assert len(spider.examples) == 1034 and len(spider.databases) == 20
    assert all(len(paths) == 4 for paths in spider.instances.values())


def test_generated_instances_respect_keys(spider):
    for db_id, db in spider.databases.items():
        for path in spider.instances[db_id]:
            conn = sqlite3.connect(path)
            for table, pk in db.primary_keys.items():
                cols = ", ".join(f'"{c}"' for c in pk)
                dup = (
                    conn.execute(
                        f'SELECT count(*) - count(DISTINCT {cols}) FROM "{table}"'
                    ).fetchone()[0]
                    if len(pk) == 1
                    else 0
                )
                assert dup == 0, (db_id, table)
                assert conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] > 0
            for (child, ccol), (parent, pcol) in db.foreign_keys:
                orphans = conn.execute(
                    f'SELECT count(*) FROM "{child}" WHERE "{ccol}" IS NOT NULL AND "{ccol}" NOT IN '
                    f'(SELECT "{pcol}" FROM "{parent}")'
                ).fetchone()[0]
                assert orphans == 0, (db_id, child, ccol, parent, pcol)
            conn.close()


def test_gold_queries_mostly_return_rows_on_generated_instances(spider):
    by_db = {}
    for e in spider.examples:
        by_db.setdefault(e.db_id, []).append(e.gold)
    full = total = 0
    for db_id, queries in by_db.items():
        for path in spider.instances[db_id]:
            with Sandbox(path) as box:
                for sql in queries:
                    got = box.execute(sql)
                    assert got.ok, (db_id, sql, got.error)
                    full += bool(got.rows)
                    total += 1
    assert full / total > 0.9


def test_instances_differ_and_regenerate_identically(spider, ctx, tmp_path):
    from benchbed_text2sql.generate import build_instances

    db_id = "concert_singer"
    a, b = spider.instances[db_id][:2]
    dump = lambda p: list(sqlite3.connect(p).iterdump())  # noqa: E731
    assert dump(a) != dump(b)
    examples = [e for e in spider.examples if e.db_id == db_id]
    again = build_instances(tmp_path, {db_id: spider.databases[db_id]}, examples)[db_id]
    fresh = build_instances(tmp_path / "x", {db_id: spider.databases[db_id]}, examples)[db_id]
    assert dump(again[0]) == dump(fresh[0])


def test_sample_tasks_are_fixed_and_stratified(chinook):
    task = tasks.Text2SQLTask("t", "", tasks.chinook, per_level=5)
    first, second = task.items(chinook), task.items(chinook)
    assert [i.id for i in first] == [i.id for i in second]
    assert Counter(i.hardness for i in first) == {"easy": 5, "medium": 5, "hard": 5, "extra": 5}


def test_paraphrases_are_excluded_from_demonstrations(spider):
    task = tasks.Text2SQLTask("t", "", tasks.spider_generated)
    items = {i.id: i for i in task.items(spider)}
    first = items[0]  # "How many singers do we have?"; dev item 1 is its paraphrase
    assert {0, 1} <= first.excluded
    assert spider.examples[1].gold.lower() == first.gold.lower()


def test_spider_dir_layout_is_read_with_extra_instances(spider, ctx, tmp_path, monkeypatch):
    """BENCHBED_SPIDER_DIR: <db_id>/<db_id>.sqlite first, other *.sqlite files as instances."""
    import shutil

    for db_id, paths in spider.instances.items():
        (tmp_path / db_id).mkdir()
        shutil.copy(paths[0], tmp_path / db_id / f"{db_id}.sqlite")
        shutil.copy(paths[1], tmp_path / db_id / f"{db_id}_ts1.sqlite")
    monkeypatch.setenv("BENCHBED_SPIDER_DIR", str(tmp_path))
    real = tasks.spider_real(ctx)
    assert real.instances["concert_singer"] == [
        tmp_path / "concert_singer" / "concert_singer.sqlite",
        tmp_path / "concert_singer" / "concert_singer_ts1.sqlite",
    ]
    (tmp_path / "pets_1" / "pets_1.sqlite").unlink()
    with pytest.raises(Exception, match="pets_1.sqlite is missing"):
        tasks.spider_real(ctx)
