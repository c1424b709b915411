import os

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: loads MiniLM or an LLM, or runs mteb on real data")
    os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    """A cell context whose cache (trained poolers, mteb's folder) is a fresh temporary one."""
    from benchbed import Context

    monkeypatch.setenv("BENCHBED_CACHE", str(tmp_path))
    monkeypatch.setenv("MTEB_CACHE", str(tmp_path / "mteb"))
    return Context(seed=0, plugin="pooling", show_progress=False)

