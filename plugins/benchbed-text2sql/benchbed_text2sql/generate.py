"""Database instances generated from Spider's schemas, in the spirit of test-suite accuracy
(Zhong et al. 2020): a prediction counts as correct only if it matches the gold result on
every instance, so a query that is right by accident on one database is caught on another.

For each schema (tables.json: column types, primary and foreign keys):
- tables are filled parents first; a foreign-key column takes values that exist in the
  column it references, a primary key is unique;
- values come from the literals of the gold queries on that schema, tied to the column they
  are compared with ("WHERE country = 'France'" puts France in singer.country, "age > 30"
  puts 29, 30 and 31 in age, "LIKE '%ee%'" puts a word containing "ee"), mixed with
  synthetic values from small domains, so filters select some rows and not others and
  GROUP BY forms groups of several sizes;
- each instance is the best of a few seeded candidates by the number of gold queries that
  return a non-empty result.

Instances are generated with fixed seeds (not the cell's seed): every model is judged on the
same databases. They are cached under the plugin's cache folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections import defaultdict
from pathlib import Path

import numpy as np

from benchbed_text2sql.datasets import Database, Example

INSTANCES = 4
CANDIDATES = 3
VERSION = 2
WORDS = ["alpha", "bravo", "delta", "echo", "gamma", "kilo", "lima", "omega", "sierra", "tango"]


def _is_number_type(kind: str) -> bool:
    return kind.lower() in ("number", "int", "integer", "real", "numeric", "boolean")


class ValuePools:
    """Literal values of the gold queries, per (table, column) in original spelling."""

    def __init__(self, db: Database, examples: list[Example]):
        from benchbed_text2sql.sqlinfo import Schema, literals

        plain = Schema({t: [c for c, _ in cols] for t, cols in db.tables.items()})  # no FK merge
        original = {
            f"{t.lower()}.{c.lower()}": (t, c) for t, cols in db.tables.items() for c, _ in cols
        }
        self.by_column: dict[tuple[str, str], list] = defaultdict(list)
        self.loose: list = []  # literals whose column could not be resolved
        for example in examples:
            for target, op, value in literals(example.gold, plain):
                values = self._expand(op, value)
                if target in original:
                    self.by_column[original[target]].extend(values)
                else:
                    self.loose.extend(v for v in values if isinstance(v, str))

    @staticmethod
    def _expand(op: str, value) -> list:
        if isinstance(value, str) and op == "like":
            core = value.strip("%")
            if not core:
                return []
            left = "x" if value.startswith("%") else ""
            right = "y" if value.endswith("%") else ""
            return [left + core + right, core]
        if (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and op in ("gt", "gte", "lt", "lte", "between")
        ):
            return [value - 1, value, value + 1]
        return [value]


def generate_instance(
    db: Database, pools: ValuePools, rng: np.random.Generator, path: Path
) -> None:
    order = _parent_first(db)
    values: dict[tuple[str, str], list] = {}
    rows_of: dict[str, list[tuple]] = {}
    parents = {child: parent for child, parent in db.foreign_keys}
    for table in order:
        columns = db.tables[table]
        n = int(rng.integers(8, 21))
        pk = db.primary_keys.get(table, [])
        data = {}
        for column, kind in columns:
            parent = parents.get((table, column))
            parent_values = values.get(parent) if parent else None
            own = pools.by_column.get((table, column), [])
            if len(pk) == 1 and column == pk[0]:
                if parent_values:  # a key that is also a foreign key: a subset of the parent's
                    distinct = list(dict.fromkeys(parent_values))
                    picks = rng.choice(len(distinct), size=min(n, len(distinct)), replace=False)
                    data[column] = [distinct[i] for i in sorted(picks)]
                else:
                    data[column] = _unique(kind, own, n, rng, column)
            elif parent_values:
                data[column] = [
                    parent_values[int(i)] for i in rng.integers(len(parent_values), size=n)
                ]
            else:
                data[column] = _column_values(kind, own, pools.loose, n, rng, column)
        size = min(len(v) for v in data.values()) if data else 0
        data = {c: v[:size] for c, v in data.items()}
        rows = list(zip(*(data[c] for c, _ in columns))) if columns else []
        if len(pk) > 1:  # composite keys must be unique as tuples
            index = [c for c, _ in columns].index
            seen, unique_rows = set(), []
            for row in rows:
                key = tuple(row[index(c)] for c in pk if c in data)
                if key not in seen:
                    seen.add(key)
                    unique_rows.append(row)
            rows = unique_rows
        rows_of[table] = rows
        for i, (column, _) in enumerate(columns):
            values[(table, column)] = [r[i] for r in rows]
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        # a scratch file until the rename below: no need to wait for the disk
        conn.executescript("PRAGMA synchronous = OFF; PRAGMA journal_mode = OFF;")
        conn.executescript(db.ddl())
        for table, rows in rows_of.items():
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                conn.executemany(
                    f'INSERT OR IGNORE INTO "{table}" VALUES ({marks})',
                    [tuple(map(_plain, r)) for r in rows],
                )
        conn.commit()
    finally:
        conn.close()
    os.replace(tmp, path)


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def _parent_first(db: Database) -> list[str]:
    """Tables ordered so that referenced tables come first (cycles broken by input order)."""
    deps = defaultdict(set)
    for (child, _), (parent, _) in db.foreign_keys:
        if child != parent:
            deps[child].add(parent)
    order, state = [], {}

    def visit(table):
        if state.get(table) == "done" or state.get(table) == "active":
            return
        state[table] = "active"
        for parent in sorted(deps[table]):
            if parent in db.tables:
                visit(parent)
        state[table] = "done"
        order.append(table)

    for table in db.tables:
        visit(table)
    return order


def _synthetic(kind: str, rng, column: str, numeric_hint: list):
    if _is_number_type(kind) or numeric_hint:
        if numeric_hint:
            lo, hi = min(numeric_hint), max(numeric_hint)
            span = max(hi - lo, 4)
            return int(rng.integers(int(lo - span / 2), int(hi + span / 2) + 1))
        return int(rng.integers(1, 60))
    if kind.lower() == "time":
        return f"{int(rng.integers(1995, 2021))}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
    return f"{WORDS[int(rng.integers(len(WORDS)))]} {column.lower()}"


def _column_values(kind, pool, loose, n, rng, column) -> list:
    numeric = [v for v in pool if isinstance(v, (int, float)) and not isinstance(v, bool)]
    out = []
    for _ in range(n):
        r = rng.random()
        if pool and r < 0.55:
            out.append(pool[int(rng.integers(len(pool)))])
        elif loose and not _is_number_type(kind) and r < 0.65:
            out.append(loose[int(rng.integers(len(loose)))])
        else:
            out.append(_synthetic(kind, rng, column, numeric))
    return out


def _unique(kind, pool, n, rng, column) -> list:
    if _is_number_type(kind) and not any(isinstance(v, str) for v in pool):
        base = sorted({int(v) for v in pool if isinstance(v, (int, float))} | set(range(1, n + 1)))
        picks = rng.choice(len(base), size=min(n, len(base)), replace=False)
        return [base[i] for i in sorted(picks)]
    values = list(dict.fromkeys(pool))
    k = 0
    while len(values) < n:
        k += 1
        candidate = f"{column.lower()}_{k}" if not _is_number_type(kind) else k
        if candidate not in values:
            values.append(candidate)
    rng.shuffle(values)
    return values[:n]


def non_empty_count(path: Path, queries: list[str]) -> tuple[int, int]:
    """(gold queries with a non-empty result, gold queries that fail) on one instance."""
    from benchbed_text2sql.sandbox import Sandbox

    full = failed = 0
    with Sandbox(path, timeout_s=2.0) as box:
        for sql in queries:
            got = box.execute(sql)
            failed += not got.ok
            full += bool(got.ok and got.rows and any(v is not None for v in got.rows[0]))
    return full, failed


def build_instances(
    cache_dir: Path, databases: dict, examples: list[Example], count: int = INSTANCES
) -> dict:
    """{db_id: [instance paths]}, generated once and cached."""
    payload = json.dumps(
        {
            "version": VERSION,
            "count": count,
            "schemas": {
                d: [db.tables, db.primary_keys, db.foreign_keys]
                for d, db in sorted(databases.items())
            },
            "gold": [e.gold for e in examples],
        },
        sort_keys=True,
        default=str,
    )
    folder = cache_dir / f"spider-instances-{hashlib.sha256(payload.encode()).hexdigest()[:12]}"
    by_db = defaultdict(list)
    for e in examples:
        by_db[e.db_id].append(e)
    out = {}
    for index, (db_id, db) in enumerate(sorted(databases.items())):
        target = folder / db_id
        paths = [target / f"instance-{k}.sqlite" for k in range(count)]
        out[db_id] = paths
        if all(p.is_file() for p in paths):
            continue
        target.mkdir(parents=True, exist_ok=True)
        pools = ValuePools(db, by_db[db_id])
        queries = [e.gold for e in by_db[db_id]]
        for k, path in enumerate(paths):
            best = None
            for attempt in range(CANDIDATES):
                rng = np.random.default_rng([VERSION, index, k, attempt])
                candidate = path.with_name(f"{path.stem}.cand{attempt}.sqlite")
                generate_instance(db, pools, rng, candidate)
                full, _ = non_empty_count(candidate, queries)
                if best is None or full > best[0]:
                    if best is not None:
                        best[1].unlink()
                    best = (full, candidate)
                else:
                    candidate.unlink()
            os.replace(best[1], path)
    return out
