import os

# On a small shared machine one thread per process is faster than oversubscribed ones;
# set before torch is imported here or in a `benchbed` subprocess.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    from benchbed import Context, seed_everything

    monkeypatch.setenv("BENCHBED_CACHE", str(tmp_path / "cache"))
    seed_everything(0)
    return Context(seed=0, show_progress=False, plugin="continual")


@pytest.fixture(scope="session")
def tasks():
    from benchbed_continual.benchmarks import all_tasks

    return {t.name: t for t in all_tasks()}


def make(name, **params):
    """A method's learner, built as the registry builds it."""
    from benchbed_continual.plugin import METHODS, _factory

    return _factory(METHODS[name][0])(**params)


@pytest.fixture(scope="session")
def build():
    return make
