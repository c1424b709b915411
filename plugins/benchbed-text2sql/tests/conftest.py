import sqlite3

import pytest


@pytest.fixture
def tiny_db(tmp_path):
    """A small database for crafted evaluator cases."""
    path = tmp_path / "tiny.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT, age INTEGER);
        CREATE TABLE concert (concert_id INTEGER PRIMARY KEY, singer_id INTEGER, year INTEGER,
                              FOREIGN KEY (singer_id) REFERENCES singer (singer_id));
        INSERT INTO singer VALUES (1, 'Ann', 'France', 30), (2, 'Bob', 'France', 40),
                                  (3, 'Cid', 'Spain', 25), (4, 'Dee', 'Italy', 40);
        INSERT INTO concert VALUES (1, 1, 2014), (2, 1, 2015), (3, 2, 2014), (4, 3, 2016);
        """
    )
    conn.commit()
    conn.close()
    return path


@pytest.fixture(scope="session")
def ctx(tmp_path_factory):
    """A Context whose cache (built Chinook, generated instances) is private to the session."""
    import os

    from benchbed import Context

    old = os.environ.get("BENCHBED_CACHE")
    os.environ["BENCHBED_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield Context(seed=0, plugin="text2sql", show_progress=False)
    if old is None:
        os.environ.pop("BENCHBED_CACHE", None)
    else:
        os.environ["BENCHBED_CACHE"] = old
