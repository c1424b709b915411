import numpy as np
import pytest
import torch

from benchbed import Context

# tiny tensors: on a shared machine, extra threads only spin-wait on each other
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def digits():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return x.astype(np.float32), y


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHBED_CACHE", str(tmp_path / "cache"))
    return Context(seed=0, device="cpu", plugin="fewshot", show_progress=False)


@pytest.fixture
def cached_ctx():
    """A context on the real cache (BENCHBED_CACHE or ~/.cache/benchbed): the slow tests reuse
    embeddings and backbones made by earlier runs instead of recomputing them."""
    return Context(seed=0, device="cpu", plugin="fewshot", show_progress=False)
