"""Running predicted SQL, which is hostile input, against a SQLite file.

Defences, each one tested in tests/test_text2sql_sandbox.py:
- the file is opened read-only (`mode=ro` URI), so no statement can change it;
- an authorizer allows only reading: SELECT, reading columns, functions other than
  load_extension, and recursive CTEs; ATTACH, PRAGMA, every write and DDL are refused;
- a progress handler interrupts the query when its wall-clock budget is spent (a recursive
  CTE that never ends, a huge cross join), during execution and during fetching;
- at most `max_rows` rows and about `max_bytes` of values are fetched (in chunks, so
  memory stays bounded); more is reported as a runtime error;
- SQLite's own length limit caps a single string/blob (e.g. a 1e9-character zeroblob);
- one statement only (sqlite3's execute() refuses a second one), and it must be a query
  (SELECT, WITH or VALUES): statements the authorizer never sees, such as REINDEX, are
  refused before they reach SQLite.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

SYNTAX_ERROR = "syntax_error"
RUNTIME_ERROR = "runtime_error"
TIMEOUT = "timeout"
OK = "ok"

_ALLOWED = {
    sqlite3.SQLITE_SELECT,
    sqlite3.SQLITE_READ,
    sqlite3.SQLITE_FUNCTION,
    getattr(sqlite3, "SQLITE_RECURSIVE", 33),
}
_REFUSED_FUNCTIONS = {"load_extension", "fts3_tokenizer", "readfile", "writefile", "edit"}
_SYNTAX_MARKERS = ("syntax error", "incomplete input", "unrecognized token", 'near "')
MAX_VALUE_BYTES = 10_000_000
_LEADING_COMMENTS = re.compile(r"^(\s+|--[^\n]*(\n|$)|/\*.*?\*/)*", re.S)
_STATEMENTS = set(
    "alter analyze attach begin commit create delete detach drop end explain insert pragma"
    " reindex release replace rollback savepoint update vacuum".split()
)
_QUERY_START = re.compile(r"^(\(\s*)*(select|with|values)\b", re.I)


def _authorizer(action, arg1, arg2, db_name, trigger):
    if action not in _ALLOWED:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _REFUSED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


@dataclass
class Execution:
    status: str  # OK, SYNTAX_ERROR, RUNTIME_ERROR or TIMEOUT
    rows: list[tuple] = field(default_factory=list)
    columns: tuple[str, ...] = ()
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == OK


class Sandbox:
    """A read-only connection to one database file; reuse it for many queries."""

    def __init__(
        self,
        path: str | Path,
        timeout_s: float = 5.0,
        max_rows: int = 100_000,
        max_bytes: int = 200_000_000,
    ):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no database file at {self.path}")
        self.timeout_s = timeout_s
        self.max_rows = max_rows
        self.max_bytes = max_bytes
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        self.conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self.conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        self.conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        # Strings that are not valid UTF-8 (some Spider databases) must not crash the fetch.
        self.conn.text_factory = lambda b: b.decode("utf-8", errors="replace")
        self.conn.set_authorizer(_authorizer)
        self._deadline = 0.0
        self.queries = 0
        self.conn.set_progress_handler(self._check_deadline, 1000)

    def _check_deadline(self) -> int:
        return 1 if time.perf_counter() > self._deadline else 0

    def execute(self, sql: str, timeout_s: float | None = None) -> Execution:
        sql = strip_sql(sql)
        self.queries += 1
        if not sql:
            return Execution(SYNTAX_ERROR, error="empty query")
        body = _LEADING_COMMENTS.sub("", sql, count=1)
        if not _QUERY_START.match(body):
            words = body.split(None, 1)
            if words and words[0].lower() in _STATEMENTS:
                return Execution(RUNTIME_ERROR, error="only queries (SELECT, WITH, VALUES) are run")
            return Execution(SYNTAX_ERROR, error="not a query: " + body[:40])
        start = time.perf_counter()
        self._deadline = start + (timeout_s or self.timeout_s)
        cursor = None
        try:
            cursor = self.conn.execute(sql)
            columns = tuple(d[0] for d in cursor.description or ())
            rows, size = [], 0
            while len(rows) <= self.max_rows and size <= self.max_bytes:
                chunk = cursor.fetchmany(50)  # x 10 MB per value at most
                if not chunk:
                    break
                rows.extend(chunk)
                size += sum(_approx_size(v) for row in chunk for v in row)
        except sqlite3.Warning as exc:  # e.g. "You can only execute one statement at a time"
            return Execution(SYNTAX_ERROR, error=str(exc), seconds=time.perf_counter() - start)
        except sqlite3.Error as exc:
            return Execution(
                classify_error(exc), error=str(exc), seconds=time.perf_counter() - start
            )
        except (OverflowError, MemoryError, ValueError) as exc:
            return Execution(RUNTIME_ERROR, error=repr(exc), seconds=time.perf_counter() - start)
        finally:
            if cursor is not None:
                cursor.close()
            if self.conn.in_transaction:  # a read-only file never has one; be sure anyway
                self.conn.rollback()
        seconds = time.perf_counter() - start
        if len(rows) > self.max_rows:
            return Execution(
                RUNTIME_ERROR, error=f"more than {self.max_rows} rows", seconds=seconds
            )
        if size > self.max_bytes:
            return Execution(
                RUNTIME_ERROR, error=f"result over {self.max_bytes} bytes", seconds=seconds
            )
        return Execution(OK, rows=rows, columns=columns, seconds=seconds)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _approx_size(value) -> int:
    return len(value) if isinstance(value, (str, bytes)) else 8


def classify_error(exc: sqlite3.Error) -> str:
    message = str(exc).lower()
    if "interrupted" in message:
        return TIMEOUT
    if isinstance(exc, sqlite3.OperationalError) and any(m in message for m in _SYNTAX_MARKERS):
        return SYNTAX_ERROR
    return RUNTIME_ERROR


def strip_sql(sql: str) -> str:
    """Trailing semicolons and whitespace removed: the only harmless extra a model adds."""
    sql = (sql or "").strip()
    while sql.endswith(";"):
        sql = sql[:-1].rstrip()
    return sql
