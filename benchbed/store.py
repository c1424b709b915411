"""The SQLite results store: runs, cells, metric values, timings and artifacts.

One file (`benchbed.db` by default), WAL mode so that several `benchbed run` processes can
write it at once; every cell is written in one transaction, so a crash loses at most the
cell that was running. Table and column names are meant to be read in any SQLite browser:

    runs           one row per `benchbed run`: what ran it, where, with which versions
    cells          one row per (task, model, params, seed, device): status, error, timing
    suite_cells    which cells belong to which suite
    metric_values  a metric's value for a cell, with the per-item/episode samples (JSON;
                   zlib-compressed into a BLOB beyond 4 KB: see `decode_samples`)
    timings        wall time, throughput and latency percentiles per phase of a cell
    artifacts      JSON a task wants shown (an accuracy matrix, a deferral curve)
    tuned_params   best parameters found by `benchbed tune`, one row per optuna study
                   (the studies themselves are optuna's tables in the same file)
    cell_metrics   (view) cells joined with their metric values
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from benchbed.errors import BenchbedError

if TYPE_CHECKING:
    from benchbed.cells import Cell
    from benchbed.execution import Outcome

DEFAULT_DB = "benchbed.db"
SCHEMA_VERSION = 3


# Per-item samples longer than this are stored compressed: tens of thousands of test items per
# cell would otherwise make most of a results file, and they compress about twentyfold.
SAMPLES_INLINE = 4096


def encode_samples(samples: Iterable[float]) -> str | bytes:
    """The samples as JSON text, zlib-compressed (bytes) when the text is long."""
    text = json.dumps(list(samples))
    return text if len(text) <= SAMPLES_INLINE else zlib.compress(text.encode(), 6)


def decode_samples(stored: str | bytes | None) -> list[float] | None:
    """`metric_values.samples` back as a list: JSON text, or zlib-compressed JSON."""
    if stored is None or stored == "":
        return None
    if isinstance(stored, bytes):
        stored = zlib.decompress(stored).decode()
    return json.loads(stored)


def default_path() -> Path:
    return Path(os.environ.get("BENCHBED_DB") or DEFAULT_DB)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _schema_v1(db: sqlite_utils.Database) -> None:
    db["runs"].create(
        {
            "run_id": str,
            "suite": str,
            "command": str,
            "status": str,
            "started_at": str,
            "finished_at": str,
            "benchbed_version": str,
            "plugin_versions": str,
            "git_commit": str,
            "python_version": str,
            "torch_version": str,
            "host": str,
            "platform": str,
            "cpu": str,
            "gpu": str,
        },
        pk="run_id",
    )
    db["cells"].create(
        {
            "cell_key": str,
            "task": str,
            "model": str,
            "params": str,
            "seed": int,
            "device": str,
            "device_name": str,
            "status": str,
            "error": str,
            "traceback": str,
            "run_id": str,
            "started_at": str,
            "finished_at": str,
            "duration_s": float,
            "task_plugin": str,
            "model_plugin": str,
        },
        pk="cell_key",
        foreign_keys=[("run_id", "runs", "run_id")],
    )
    db["cells"].create_index(["task", "model"])
    db["suite_cells"].create({"suite": str, "cell_key": str}, pk=("suite", "cell_key"))
    db["metric_values"].create(
        {
            "cell_key": str,
            "metric": str,
            "value": float,
            "n": int,
            "sample_unit": str,
            "samples": str,
        },
        pk=("cell_key", "metric"),
    )
    db["timings"].create(
        {
            "cell_key": str,
            "phase": str,
            "device": str,
            "device_name": str,
            "seconds": float,
            "items": int,
            "throughput": float,
            "steps": int,
            "latency_p50_ms": float,
            "latency_p90_ms": float,
            "latency_p99_ms": float,
            "batch_size": int,
            "dtype": str,
        }
    )
    db["timings"].create_index(["cell_key"])
    db["artifacts"].create({"cell_key": str, "name": str, "content": str}, pk=("cell_key", "name"))
    db.create_view(
        "cell_metrics",
        """SELECT c.task, c.model, c.params, c.seed, c.device, c.device_name, c.status,
                  m.metric, m.value, m.n, c.cell_key, c.run_id, c.finished_at
           FROM cells c LEFT JOIN metric_values m ON m.cell_key = c.cell_key""",
    )


def _schema_v2(db: sqlite_utils.Database) -> None:
    """Tuning: the best parameters of each optuna study, and which cells used them."""
    db["cells"].add_column("tuned_from", str)
    db["tuned_params"].create(
        {
            "study": str,
            "task": str,
            "model": str,
            "metric": str,
            "direction": str,
            "best_value": float,
            "params": str,
            "trials": int,
            "updated_at": str,
        },
        pk="study",
    )


def _schema_v3(db: sqlite_utils.Database) -> None:
    """How many cells a run ran side by side on one machine, who then shared its cores or GPU:
    their throughput and latency are each cell's share, not the machine's speed for one."""
    db["runs"].add_column("cells_at_once", int)


# version -> the function that brings a store at version - 1 up to it
MIGRATIONS = {1: _schema_v1, 2: _schema_v2, 3: _schema_v3}


class Store:
    def __init__(self, path: Path | str | None = None, busy_timeout: float = 30.0):
        self.path = Path(path) if path is not None else default_path()
        self.busy_timeout = busy_timeout
        conn = sqlite3.connect(self.path, timeout=busy_timeout, isolation_level=None)
        self.db = sqlite_utils.Database(conn)
        with self._sqlite_errors():
            self._enable_wal()
            # Durable against a crashed process (what resume relies on); a power cut may
            # lose the last cells, which resume then runs again.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self._migrate()

    def _enable_wal(self) -> None:
        """Switch to WAL, retrying until the busy timeout: when two processes create the file
        at once, SQLite can answer one of them "database is locked" without waiting in the
        busy handler, so the wait happens here."""
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        self.db.close()

    # -- transactions and errors ---------------------------------------------------------

    @contextmanager
    def _sqlite_errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as exc:
            text = str(exc)
            if "locked" in text or "busy" in text:
                raise BenchbedError(
                    f"{self.path} is locked by another writer for more than "
                    f"{self.busy_timeout:g} s; try again when it has finished"
                ) from None
            if "not a database" in text or "malformed" in text:
                raise BenchbedError(
                    f"{self.path} is not a SQLite database ({text}); "
                    "pass another file with --db or BENCHBED_DB"
                ) from None
            raise

    @contextmanager
    def _write(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction; IMMEDIATE so that waiting for other writers happens up front."""
        with self._sqlite_errors():
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    @classmethod
    def reader(cls, path: Path | str, busy_timeout: float = 30.0) -> Store:
        """Open an existing results file for reading only: nothing is written to it, not even
        a migration (a file of an older schema is migrated in a copy in memory), so building
        a leaderboard from committed results leaves them as they are."""
        store = cls.__new__(cls)
        store.path, store.busy_timeout = Path(path), busy_timeout
        if not store.path.is_file():
            raise BenchbedError(f"no results store at {store.path} (pass another with --db)")
        uri = f"{store.path.resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout, isolation_level=None)
        store.db = sqlite_utils.Database(conn)
        with store._sqlite_errors():
            if store._schema_version() < SCHEMA_VERSION:
                copy = sqlite3.connect(":memory:", isolation_level=None)
                conn.backup(copy)
                conn.close()
                store.db = sqlite_utils.Database(copy)
                store._migrate()
        return store

    def _schema_version(self) -> int:
        """The file's schema version (0 for a new file); refuses files it cannot use."""
        tables = set(self.db.table_names())
        if tables and "benchbed_schema" not in tables:
            raise BenchbedError(
                f"{self.path} is a SQLite database of something else (tables: "
                f"{', '.join(sorted(tables)[:5])}); give benchbed its own file with --db"
            )
        if not tables:
            return 0
        current = self.db.execute("SELECT max(version) FROM benchbed_schema").fetchone()[0] or 0
        if current > SCHEMA_VERSION:
            raise BenchbedError(
                f"{self.path} was written by a newer benchbed (schema {current}, this one "
                f"knows {SCHEMA_VERSION}); upgrade benchbed"
            )
        return current

    def _migrate(self) -> None:
        with self._write() as db:  # inside the lock: two processes may create the file at once
            current = self._schema_version()
            if "benchbed_schema" not in db.table_names():
                db["benchbed_schema"].create({"version": int, "migrated_at": str}, pk="version")
            for version in range(current + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[version](db)
                db["benchbed_schema"].insert({"version": version, "migrated_at": now()})

    # -- writing ---------------------------------------------------------------------------

    def start_run(self, provenance: dict[str, Any], suite: str | None, command: str) -> str:
        run_id = uuid.uuid4().hex[:12]
        row = {
            "run_id": run_id,
            "suite": suite,
            "command": command,
            "status": "running",
            "started_at": now(),
            **provenance,
            "plugin_versions": json.dumps(provenance.get("plugin_versions", {})),
        }
        with self._write() as db:
            db["runs"].insert(row)
        return run_id

    def finish_run(self, run_id: str, status: str) -> None:
        with self._write() as db:
            db["runs"].update(run_id, {"status": status, "finished_at": now()})

    def add_to_suite(self, suite: str, keys: Iterable[str]) -> None:
        rows = [{"suite": suite, "cell_key": key} for key in keys]
        with self._write() as db:
            db["suite_cells"].insert_all(rows, replace=True)

    def save_cell(self, run_id: str, cell: Cell, outcome: Outcome) -> None:
        """Replace whatever was stored for this cell, in one transaction."""
        key = cell.key
        with self._write() as db:
            for table in ("metric_values", "timings", "artifacts"):
                db.execute(f"DELETE FROM {table} WHERE cell_key = ?", [key])
            _insert(
                db,
                "cells",
                [
                    {
                        "cell_key": key,
                        "task": cell.task,
                        "model": cell.model,
                        "params": json.dumps(cell.params, sort_keys=True, default=str),
                        "seed": cell.seed,
                        "device": cell.device,
                        "device_name": outcome.device_name,
                        "status": outcome.status,
                        "error": outcome.error,
                        "traceback": outcome.traceback,
                        "run_id": run_id,
                        "started_at": outcome.started_at,
                        "finished_at": outcome.finished_at,
                        "duration_s": outcome.duration_s,
                        "task_plugin": cell.versions["task"],
                        "model_plugin": cell.versions["model"],
                        "tuned_from": cell.tuned_from,
                    }
                ],
                replace=True,
            )
            _insert(
                db,
                "metric_values",
                [
                    {
                        "cell_key": key,
                        "metric": name,
                        "value": score.value,
                        "n": len(score.samples) if score.samples is not None else None,
                        "sample_unit": score.unit if score.samples is not None else None,
                        "samples": encode_samples(score.samples)
                        if score.samples is not None
                        else None,
                    }
                    for name, score in outcome.metrics.items()
                ],
            )
            _insert(db, "timings", [{"cell_key": key, **t.as_row()} for t in outcome.timings])
            _insert(
                db,
                "artifacts",
                [
                    {
                        "cell_key": key,
                        "name": name,
                        "content": json.dumps(content, default=_jsonable),
                    }
                    for name, content in outcome.artifacts.items()
                ],
            )

    def save_tuned(self, row: dict[str, Any]) -> None:
        with self._write() as db:
            _insert(db, "tuned_params", [{**row, "updated_at": now()}], replace=True)

    def tuned(self, study: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM tuned_params WHERE study = ?", [study])
        return {**rows[0], "params": json.loads(rows[0]["params"])} if rows else None

    # -- reading ---------------------------------------------------------------------------

    def completed_keys(self, keys: Iterable[str]) -> set[str]:
        keys = list(keys)
        done: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT cell_key FROM cells WHERE status = 'ok' AND cell_key IN ({marks})"
            done.update(row[0] for row in self.db.execute(sql, chunk).fetchall())
        return done

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict]:
        with self._sqlite_errors():
            return list(self.db.query(sql, list(params)))

    def results(self, suite: str | None = None, task: str | None = None) -> list[dict]:
        """One row per cell and metric (failed cells with an empty metric), newest first."""
        where, params = [], []
        if suite:
            where.append("cell_key IN (SELECT cell_key FROM suite_cells WHERE suite = ?)")
            params.append(suite)
        if task:
            where.append("task = ?")
            params.append(task)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return self.query(
            "SELECT task, model, params, seed, device, status, metric, value, n, cell_key "
            f"FROM cell_metrics {clause} ORDER BY task, model, params, seed, metric",
            params,
        )


def _insert(db: sqlite_utils.Database, table: str, rows: list[dict], replace: bool = False) -> None:
    """Plain executemany: the hot path of a run, where table introspection per call costs."""
    if not rows:
        return
    columns = list(rows[0])
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    sql = (
        f"{verb} INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
    )
    db.conn.executemany(sql, rows)


def _jsonable(value: Any) -> Any:
    """Artifacts may hold NumPy arrays and scalars; store them as plain JSON."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"artifact value of type {type(value).__name__} is not JSON-serialisable")
