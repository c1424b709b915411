import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlite_utils

from benchbed import BenchbedError
from benchbed.store import SCHEMA_VERSION, Store

PLUGINS = Path(__file__).parent / "plugins"  # the test plugins


def test_a_new_store_records_its_schema_version_and_uses_wal(tmp_path):
    store = Store(tmp_path / "r.db")
    versions = [r["version"] for r in store.query("SELECT version FROM benchbed_schema")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))
    assert store.query("PRAGMA journal_mode")[0]["journal_mode"] == "wal"
    assert {"runs", "cells", "suite_cells", "metric_values", "timings", "artifacts"} <= set(
        store.db.table_names()
    )
    Store(tmp_path / "r.db")  # reopening migrates nothing and loses nothing
    assert len(store.query("SELECT * FROM benchbed_schema")) == SCHEMA_VERSION


def test_an_old_store_is_migrated_forward_keeping_its_results(tmp_path, registry):
    import sqlite_utils

    from benchbed.cells import make_cell
    from benchbed.runner import run_cells
    from benchbed.store import MIGRATIONS

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    old["benchbed_schema"].create({"version": int, "migrated_at": str}, pk="version")
    MIGRATIONS[1](old)
    old["benchbed_schema"].insert({"version": 1, "migrated_at": "long ago"})
    old["cells"].insert({"cell_key": "k1", "task": "toy/noisy", "status": "ok"})
    old.close()

    store = Store(path)
    assert store.query("SELECT task FROM cells") == [{"task": "toy/noisy"}]
    assert "tuned_from" in store.db["cells"].columns_dict
    assert "cells_at_once" in store.db["runs"].columns_dict
    cell = make_cell(registry, "toy/noisy", "uniform", {}, 0, "cpu")
    assert run_cells(registry, store, [cell], progress=False).ok == 1


def test_a_reader_leaves_an_old_file_as_it_was_and_sees_it_migrated(tmp_path):
    from benchbed.store import MIGRATIONS

    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    old["benchbed_schema"].create({"version": int, "migrated_at": str}, pk="version")
    MIGRATIONS[1](old)
    old["benchbed_schema"].insert({"version": 1, "migrated_at": "long ago"})
    old["runs"].insert({"run_id": "r1", "status": "ok"})
    old.close()
    before = path.read_bytes()

    reader = Store.reader(path)
    assert reader.query("SELECT run_id, cells_at_once FROM runs") == [
        {"run_id": "r1", "cells_at_once": None}
    ]
    reader.close()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.db"]


def test_a_reader_refuses_a_missing_file_without_creating_it(tmp_path):
    with pytest.raises(BenchbedError, match="no results store at"):
        Store.reader(tmp_path / "typo.db")
    assert not (tmp_path / "typo.db").exists()


def test_long_sample_lists_are_stored_compressed_and_read_back_exactly():
    from benchbed.store import decode_samples, encode_samples

    short = [0.5, 1.0, 0.25]
    assert encode_samples(short) == "[0.5, 1.0, 0.25]"  # readable JSON in any browser
    items = [(i % 7) * 1.0098039215686274 for i in range(10_000)]  # a test set's item scores
    stored = encode_samples(items)
    assert isinstance(stored, bytes) and len(stored) < len(json.dumps(items)) / 10
    assert decode_samples(stored) == items and decode_samples(encode_samples(short)) == short
    assert decode_samples(None) is None


def test_the_leaderboard_reads_compressed_samples_as_stored(tmp_path, registry):
    from benchbed.cells import make_cell
    from benchbed.execution import Outcome
    from benchbed.leaderboard.source import load
    from benchbed.specs import Score

    items = [float(i % 2) for i in range(5_000)]
    store = Store(tmp_path / "r.db")
    cell = make_cell(registry, "toy/noisy", "uniform", {}, 0, "cpu")
    outcome = Outcome("ok", "t0", "t1", 1.0, metrics={"accuracy": Score.mean_of(items)})
    store.save_cell(store.start_run({}, None, "test"), cell, outcome)
    store.close()
    results = load([tmp_path / "r.db"])
    (record,) = results.cells
    assert record.metrics["accuracy"].samples() == items
    results.close()


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(BenchbedError, match="is not a SQLite database"):
        Store(path)
    assert path.read_text().startswith("these are my notes")


def test_a_database_of_something_else_is_refused(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(BenchbedError, match="database of something else \\(tables: customers\\)"):
        Store(path)


def test_a_store_from_a_newer_benchbed_is_refused(tmp_path):
    store = Store(tmp_path / "r.db")
    store.db.execute(f"INSERT INTO benchbed_schema VALUES ({SCHEMA_VERSION + 1}, 'later')")
    with pytest.raises(BenchbedError, match="newer benchbed"):
        Store(tmp_path / "r.db")


def test_a_writer_locked_out_past_the_busy_timeout_gets_a_clear_error(tmp_path):
    path = tmp_path / "r.db"
    Store(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        store = Store.__new__(Store)
        with pytest.raises(BenchbedError, match="locked by another writer for more than 0.2 s"):
            Store.__init__(store, path, busy_timeout=0.2)
    finally:
        holder.execute("ROLLBACK")


def test_a_lock_refused_at_once_while_switching_to_wal_is_waited_out(tmp_path, monkeypatch):
    # Two processes creating the file at once: SQLite refuses one of them without calling
    # the busy handler, so Store itself must retry.
    refusals = []
    execute = sqlite_utils.Database.execute

    def refuse_twice(self, sql, *args, **kwargs):
        if sql == "PRAGMA journal_mode=WAL" and len(refusals) < 2:
            refusals.append(sql)
            raise sqlite3.OperationalError("database is locked")
        return execute(self, sql, *args, **kwargs)

    monkeypatch.setattr(sqlite_utils.Database, "execute", refuse_twice)
    store = Store(tmp_path / "r.db")
    assert len(refusals) == 2
    assert store.query("PRAGMA journal_mode")[0]["journal_mode"] == "wal"


WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {plugins!r})
    import toy_plugin
    from benchbed.cells import make_cell
    from benchbed.plugins import load_registry
    from benchbed.runner import run_cells
    from benchbed.store import Store

    registry = load_registry(extra=[("toy", toy_plugin)], entry_point_plugins=False)
    first = int(sys.argv[1])
    cells = [make_cell(registry, "toy/noisy", "uniform", {{}}, s, "cpu") for s in range(first, first + 40)]
    summary = run_cells(registry, Store({db!r}), cells, suite="shared", progress=False)
    assert summary.ok == 40, summary
    """
)


def test_two_processes_writing_one_store_both_succeed_and_nothing_is_lost(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(WRITER.format(plugins=str(PLUGINS), db=str(tmp_path / "r.db")))
    writers = [subprocess.Popen([sys.executable, str(script), str(first)]) for first in (0, 40)]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    store = Store(tmp_path / "r.db")
    assert store.query("SELECT count(*) AS n FROM cells WHERE status = 'ok'")[0]["n"] == 80
    assert store.query("SELECT count(*) AS n FROM metric_values")[0]["n"] == 80
    assert store.query("SELECT count(*) AS n FROM suite_cells")[0]["n"] == 80
    assert store.query("SELECT count(*) AS n FROM runs WHERE status = 'ok'")[0]["n"] == 2
