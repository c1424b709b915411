import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: loads a language model (minutes on a CPU)")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHBED_CACHE", str(tmp_path))
    return tmp_path

