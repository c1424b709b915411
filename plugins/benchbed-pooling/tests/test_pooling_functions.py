"""Each pooling against values computed by hand on tiny tensors, padding on either side."""

import pytest

torch = pytest.importorskip("torch")

from benchbed_pooling.pooling import POOLINGS, pool, pool_all  # noqa: E402

from benchbed import BenchbedError  # noqa: E402

# two sentences, 3 positions, 2 dims; sentence 0 has 2 real tokens (right-padded)
H = torch.tensor(
    [
        [[1.0, 2.0], [3.0, -4.0], [100.0, 100.0]],
        [[0.0, 1.0], [2.0, 0.0], [4.0, 5.0]],
    ]
)
M = torch.tensor([[1, 1, 0], [1, 1, 1]])

EXPECTED = {
    "mean": [[2.0, -1.0], [2.0, 2.0]],
    "cls": [[1.0, 2.0], [0.0, 1.0]],
    "last": [[3.0, -4.0], [4.0, 5.0]],
    "max": [[3.0, 2.0], [4.0, 5.0]],
    # weights 1/3, 2/3 and 1/6, 2/6, 3/6
    "weighted-mean": [[7 / 3, -2.0], [(0 + 4 + 12) / 6, (1 + 0 + 15) / 6]],
}


@pytest.mark.parametrize("name", POOLINGS)
def test_pooling_matches_hand_computed_values(name):
    assert torch.allclose(pool(name, H, M), torch.tensor(EXPECTED[name]), atol=1e-6)


@pytest.mark.parametrize("name", POOLINGS)
def test_left_padding_gives_the_same_vector(name):
    # sentence 0 moved to the right: padding first, as decoders are often batched
    left = H.clone()
    left[0] = torch.tensor([[-50.0, 70.0], [1.0, 2.0], [3.0, -4.0]])
    mask = torch.tensor([[0, 1, 1], [1, 1, 1]])
    assert torch.allclose(pool(name, left, mask), torch.tensor(EXPECTED[name]), atol=1e-6)


def test_pool_all_is_every_pooling_from_one_set_of_states():
    out = pool_all(H, M)
    assert set(out) == set(POOLINGS)
    for name in POOLINGS:
        assert torch.equal(out[name], pool(name, H, M))


def test_max_ignores_padding_even_when_every_real_value_is_negative():
    h = torch.tensor([[[-3.0], [-1.0], [0.0]]])
    assert pool("max", h, torch.tensor([[1, 1, 0]])).item() == -1.0


def test_unknown_pooling_is_a_benchbed_error():
    with pytest.raises(BenchbedError, match="choose one of"):
        pool("median", H, M)
