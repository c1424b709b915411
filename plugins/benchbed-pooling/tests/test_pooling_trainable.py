"""The trainable poolers' building blocks on tiny tensors (no backbone)."""

import math

import pytest

torch = pytest.importorskip("torch")

from benchbed_pooling import trainable  # noqa: E402
from benchbed_pooling.pooling import pool  # noqa: E402


def test_info_nce_matches_the_formula():
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    p = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    n = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    tau = 0.5
    cands = torch.nn.functional.normalize(torch.cat([p, n]), dim=-1)
    expected = 0.0
    for i in range(2):
        logits = (a[i] @ cands.T) / tau
        expected += -(logits[i] - torch.logsumexp(logits, 0)).item()
    assert math.isclose(trainable.info_nce(a, p, n, tau).item(), expected / 2, rel_tol=1e-6)


def test_untrained_last_layer_pooler_is_mean_pooling():
    torch.manual_seed(0)
    pooler = trainable.make_pooler("trainable-last", dim=16, num_layers=3, latents=4, heads=4)
    h, m = torch.randn(3, 5, 16), torch.tensor([[1] * 5, [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]])
    assert torch.allclose(pooler(h, m), pool("mean", h, m), atol=1e-6)


def test_multi_layer_pooler_reads_every_layer_and_learns_layer_positions():
    torch.manual_seed(0)
    states = tuple(torch.randn(2, 4, 8) for _ in range(5))
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]])
    pooler = trainable.make_pooler("trainable-multi", dim=8, num_layers=5, latents=4, heads=2)
    layers, lmask = pooler.features(states, mask, "mean")
    assert layers.shape == (2, 5, 8) and lmask.shape == (2, 5)
    assert torch.allclose(layers[:, 3], pool("mean", states[3], mask))
    assert pooler.layer_embedding.shape == (5, 8)
    out = pooler(layers, lmask)
    out.sum().backward()
    assert pooler.layer_embedding.grad is not None and pooler.block.latents.grad is not None


def test_training_lowers_the_loss_and_is_seeded():
    Triplet = __import__("benchbed_pooling.data", fromlist=["Triplet"]).Triplet
    gen = torch.Generator().manual_seed(1)
    centres = torch.randn(12, 8, generator=gen)
    feats, triplets = {}, []
    for i in range(12):
        feats[f"a{i}"] = centres[i] + 0.5 * torch.randn(3, 8, generator=gen)
        feats[f"p{i}"] = centres[i] + 0.5 * torch.randn(4, 8, generator=gen)
        feats[f"n{i}"] = centres[(i + 1) % 12] + 0.5 * torch.randn(2, 8, generator=gen)
        triplets.append(Triplet(f"a{i}", f"p{i}", f"n{i}"))
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        pooler = trainable.make_pooler("trainable-last", 8, 2, latents=4, heads=2)
        runs.append(
            trainable.train_pooler(
                pooler, feats, triplets, seed=3, epochs=15, batch_size=6, lr=3e-3, device="cpu"
            )
        )
    assert runs[0] == runs[1]
    assert runs[0][-1] < runs[0][0]
