"""Predicted SQL is hostile input: each defence of sandbox.py has a case here."""

import hashlib
import time

import pytest
from benchbed_text2sql.sandbox import OK, RUNTIME_ERROR, SYNTAX_ERROR, TIMEOUT, Sandbox

HOSTILE = [
    "INSERT INTO singer VALUES (9, 'Eve', 'Peru', 20)",
    "UPDATE singer SET age = 0",
    "DELETE FROM singer",
    "DROP TABLE singer",
    "CREATE TABLE evil (x)",
    "ALTER TABLE singer ADD COLUMN x",
    "ATTACH DATABASE '/tmp/benchbed_t2s_evil.sqlite' AS evil",
    "PRAGMA journal_mode = WAL",
    "PRAGMA writable_schema = 1",
    "PRAGMA user_version = 7",
    "VACUUM",
    "REINDEX",
    "ANALYZE",
    "BEGIN IMMEDIATE",
    "SELECT load_extension('/tmp/evil.so')",
    "SELECT 1; DROP TABLE singer",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r",
    "SELECT count(*) FROM singer a, singer b, singer c, singer d, singer e, singer f, singer g,"
    " singer h, singer i, singer j, singer k, singer l, singer m, singer n, singer o",
    "SELECT zeroblob(2000000000)",
    "SELECT randomblob(100000000)",
    "CREATE TEMP TABLE t AS SELECT * FROM singer",
    "INSERT INTO concert SELECT * FROM concert",
    "REPLACE INTO singer VALUES (1, 'x', 'y', 1)",
    # a query on its face, with a write hidden inside
    "WITH x AS (SELECT 1) INSERT INTO singer SELECT 9, 'e', 'p', 1 FROM x",
    "SELECT * FROM singer; ATTACH DATABASE ':memory:' AS m",
    "/* hi */ PRAGMA query_only = 0",
]


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_reads_work(tiny_db):
    with Sandbox(tiny_db) as box:
        got = box.execute("SELECT name FROM singer WHERE age = 40 ORDER BY name;")
    assert got.status == OK and got.rows == [("Bob",), ("Dee",)] and got.columns == ("name",)


def test_recursive_cte_that_ends_is_allowed(tiny_db):
    with Sandbox(tiny_db) as box:
        got = box.execute(
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n<5) SELECT sum(n) FROM r"
        )
    assert got.rows == [(15,)]


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_query_is_refused_or_stopped_and_file_unchanged(tiny_db, sql):
    before = digest(tiny_db)
    with Sandbox(tiny_db, timeout_s=0.5) as box:
        got = box.execute(sql)
        assert got.status != OK, got
        # the connection is still usable and sees the original data
        assert box.execute("SELECT count(*) FROM singer").rows == [(4,)]
    assert digest(tiny_db) == before
    assert not (tiny_db.parent / "benchbed_t2s_evil.sqlite").exists()


def test_whole_hostile_list_on_one_connection_leaves_file_byte_identical(tiny_db):
    before = digest(tiny_db)
    with Sandbox(tiny_db, timeout_s=0.3) as box:
        statuses = [box.execute(sql).status for sql in HOSTILE]
    assert OK not in statuses
    assert digest(tiny_db) == before


def test_runaway_queries_time_out_promptly(tiny_db):
    with Sandbox(tiny_db, timeout_s=0.3) as box:
        start = time.perf_counter()
        got = box.execute(HOSTILE[16])  # a recursive CTE that never ends
        assert got.status == TIMEOUT
        assert time.perf_counter() - start < 2.0
        got = box.execute(HOSTILE[17])  # 4**15 rows of cross join
        assert got.status == TIMEOUT


def test_timeout_also_covers_fetching(tiny_db):
    # the first row comes at once; producing the rest is what takes forever
    sql = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT n FROM r"
    with Sandbox(tiny_db, timeout_s=0.3, max_rows=10**9) as box:
        assert box.execute(sql).status == TIMEOUT


def test_row_cap(tiny_db):
    with Sandbox(tiny_db, max_rows=10) as box:
        got = box.execute("SELECT * FROM singer a, singer b")
    assert got.status == RUNTIME_ERROR and "more than 10 rows" in got.error


def test_result_size_cap(tiny_db):
    sql = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM r WHERE n < 50) SELECT zeroblob(1000000) FROM r"
    with Sandbox(tiny_db, max_bytes=20_000_000) as box:
        got = box.execute(sql)
    assert got.status == RUNTIME_ERROR and "bytes" in got.error


def test_error_taxonomy(tiny_db):
    with Sandbox(tiny_db) as box:
        assert box.execute("SELEC name FROM singer").status == SYNTAX_ERROR
        assert box.execute("SELECT name FROM singer WHERE").status == SYNTAX_ERROR
        assert box.execute("").status == SYNTAX_ERROR
        assert box.execute("SELECT nme FROM singer").status == RUNTIME_ERROR
        assert box.execute("SELECT name FROM singers").status == RUNTIME_ERROR
        assert box.execute("DELETE FROM singer").status == RUNTIME_ERROR  # refused
        assert box.execute("-- note\n/* c */ SELECT 1").status == OK
