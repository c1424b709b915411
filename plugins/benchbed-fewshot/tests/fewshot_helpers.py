"""Episode helpers shared by the few-shot tests."""

import numpy as np
import torch
from benchbed_fewshot.episodes import EpisodeBatch, sample_episodes


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
