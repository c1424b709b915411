import numpy as np
import pytest
import torch
from benchbed_fewshot.episodes import EpisodeBatch, sample_episodes

from benchbed import Context

# tiny tensors: on a shared machine, extra threads only spin-wait on each other
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def digits():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return x.astype(np.float32), y


def digits_batch(digits, k_shot=1, episodes=300, seed=0, n_way=5):
    """Episodes over all ten digits, as the digits task draws them, with their query labels."""
    x, y = digits
    index = sample_episodes(
        y, list(range(10)), n_way, k_shot, 15, episodes, np.random.default_rng(seed)
    )
    feats = torch.as_tensor(x)
    batch = EpisodeBatch.gather(feats, index, feats.mean(0))
    return batch, torch.as_tensor(index.query_labels)


def accuracy(method, batch, labels):
    with torch.no_grad():
        return (method.predict(batch) == labels).float().mean(1)


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    monkeypatch.setenv("BENCHBED_CACHE", str(tmp_path / "cache"))
    return Context(seed=0, device="cpu", plugin="fewshot", show_progress=False)


@pytest.fixture
def cached_ctx():
    """A context on the real cache (BENCHBED_CACHE or ~/.cache/benchbed): the slow tests reuse
    embeddings and backbones made by earlier runs instead of recomputing them."""
    return Context(seed=0, device="cpu", plugin="fewshot", show_progress=False)
