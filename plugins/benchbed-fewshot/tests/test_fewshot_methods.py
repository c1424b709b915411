"""Each method against a hand-computed answer, an independent implementation, or a special
case where it must reduce to a simpler method."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from benchbed_fewshot.episodes import EpisodeBatch
from benchbed_fewshot.methods.bdcspn import BDCSPN
from benchbed_fewshot.methods.kmeans import TransductiveKMeans
from benchbed_fewshot.methods.knn import KNearestNeighbours
from benchbed_fewshot.methods.laplacianshot import LaplacianShot, bound_update, energy, knn_affinity
from benchbed_fewshot.methods.logreg import LogisticRegression
from benchbed_fewshot.methods.nearest_centroid import NearestCentroid
from benchbed_fewshot.methods.tim import TIMADM, TIMGD
from fewshot_helpers import accuracy, digits_batch

from benchbed import BenchbedError


def tiny_batch():
    """2-way 2-shot in the plane: class 0 around (0,0), class 1 around (4,0)."""
    support = torch.tensor([[[0.0, 1.0], [0.0, -1.0], [4.0, 1.0], [4.0, -1.0]]])
    query = torch.tensor([[[1.9, 5.0], [2.1, -5.0], [-3.0, 0.0]]])
    return EpisodeBatch(
        support, torch.tensor([[0, 0, 1, 1]]), query, 2, 2, torch.tensor([2.0, 0.0])
    )


def test_nearest_centroid_by_hand():
    # prototypes (0,0) and (4,0): the decision boundary is x = 2
    assert NearestCentroid("UN").predict(tiny_batch()).tolist() == [[0, 1, 0]]
    # CL2N centres on (2,0) first: prototypes become (-1,0), (1,0) after normalisation, and the
    # third query (-3,0) -> (-5,0) -> (-1,0) stays class 0; (1.9,5) -> (-0.1,5)/|.| is nearer (-1,0)
    assert NearestCentroid("CL2N").predict(tiny_batch()).tolist() == [[0, 1, 0]]


def test_knn_by_hand_and_ties():
    b = tiny_batch()
    b.query = torch.tensor([[[3.9, 0.9], [0.1, -1.2], [1.8, 1.0], [2.2, 1.0]]])
    assert KNearestNeighbours(1, "UN").predict(b).tolist() == [[1, 0, 0, 1]]
    # k=2: the last two queries have one neighbour of each class (a 1-1 tie); the class of
    # the nearer one wins: (0,1) at 1.8 for the third, (4,1) at 1.8 for the fourth
    assert KNearestNeighbours(2, "UN").predict(b).tolist() == [[1, 0, 0, 1]]
    b.query = torch.tensor([[[1.8, 1.0], [2.2, 1.0]]])
    assert KNearestNeighbours(3, "UN").predict(b).tolist() == [[0, 1]]  # 2-1 majorities
    with pytest.raises(BenchbedError):
        KNearestNeighbours(0)


def test_transforms_and_their_errors():
    b = tiny_batch()
    b.base_mean = None
    with pytest.raises(BenchbedError, match="base-class mean"):
        NearestCentroid("CL2N").predict(b)
    with pytest.raises(BenchbedError, match="unknown feature transform"):
        NearestCentroid("L3N")


def test_logreg_matches_scikit_learn(digits):
    from sklearn.linear_model import LogisticRegression as SkLR

    batch, _ = digits_batch(digits, k_shot=5, episodes=6)
    ours = LogisticRegression(C=10.0, transform="L2N", max_iter=500)
    support = F.normalize(batch.support, dim=-1)
    w, b = ours.fit(support, batch.support_labels, 5)
    for e in range(batch.episodes):
        sk = SkLR(C=10.0, tol=1e-10, max_iter=10_000).fit(
            support[e].double().numpy(), batch.support_labels[e].numpy()
        )
        # softmax parameters are defined up to a shift shared by all classes: compare centred
        ref_w, ref_b = sk.coef_ - sk.coef_.mean(0), sk.intercept_ - sk.intercept_.mean()
        np.testing.assert_allclose((w[e] - w[e].mean(0)).numpy(), ref_w, atol=2e-4)
        np.testing.assert_allclose((b[e] - b[e].mean()).numpy(), ref_b, atol=2e-4)


def test_one_shot_reductions(digits):
    batch, labels = digits_batch(digits, k_shot=1, episodes=200)
    nc = NearestCentroid("L2N").predict(batch)
    assert torch.equal(KNearestNeighbours(1, "L2N").predict(batch), nc)  # 1-shot 1-NN
    assert torch.equal(TransductiveKMeans("L2N", max_iter=0).predict(batch), nc)
    cl2n = NearestCentroid("CL2N").predict(batch)
    assert torch.equal(LaplacianShot(lam=0.0).predict(batch), cl2n)  # no Laplacian term
    assert torch.equal(TIMADM(iterations=0).predict(batch), nc)  # TIM starts at the prototypes
    assert torch.equal(TIMGD(iterations=0).predict(batch), nc)


def test_bdcspn_without_rectification_is_shifted_cosine_centroid(digits):
    batch, _ = digits_batch(digits, k_shot=5, episodes=100)
    s, q = batch.support, batch.query
    q = q + s.mean(1, keepdim=True) - q.mean(1, keepdim=True)
    protos = s.reshape(100, 5, 5, -1).mean(2)
    expected = (F.normalize(q, dim=-1) @ F.normalize(protos, dim=-1).transpose(1, 2)).argmax(-1)
    # z = 0 and eps = 0: uniform weights over the support alone, i.e. the plain prototype
    assert torch.equal(BDCSPN(z=0, eps=0.0).predict(batch), expected)


def test_laplacian_affinity_and_bound_updates_lower_the_energy(digits):
    batch, _ = digits_batch(digits, episodes=50)
    w = knn_affinity(batch.query, 3)
    assert (
        torch.equal(w.sum(-1), torch.full((50, 75), 3.0)) and w.diagonal(dim1=1, dim2=2).sum() == 0
    )
    q = F.normalize(batch.query - batch.base_mean, dim=-1)
    protos = F.normalize(batch.support - batch.base_mean, dim=-1)
    unary = torch.cdist(q, protos) ** 2
    energies = [
        energy(bound_update(unary, w, 1.0, iterations=i, tol=0.0), unary, w, 1.0)
        for i in range(1, 8)
    ]
    for before, after in zip(energies, energies[1:]):
        assert (after <= before + 1e-4).all()  # the bound optimiser never increases E


def test_tim_gd_increases_mutual_information(digits):
    batch, labels = digits_batch(digits, episodes=100)
    tim = TIMGD(iterations=300, lr=1e-3)
    s, q = F.normalize(batch.support, dim=-1), F.normalize(batch.query, dim=-1)
    ys = F.one_hot(batch.support_labels, 5).float()
    w0 = s.reshape(100, 5, -1)

    def mutual_information(w):
        p = tim.logits(q, w).softmax(-1)
        marginal = p.mean(1)
        return (-(marginal * marginal.log()).sum(-1) + (p * p.log()).sum(-1).mean(1)).mean()

    assert mutual_information(tim.adapt(s, ys, q, w0)) > mutual_information(w0) + 0.1


def test_tim_gd_gradient_is_the_gradient_of_its_loss(digits):
    batch, _ = digits_batch(digits, episodes=20)
    tim = TIMGD()
    s, q = F.normalize(batch.support.double(), dim=-1), F.normalize(batch.query.double(), dim=-1)
    ys = F.one_hot(batch.support_labels, 5).double()
    torch.manual_seed(0)
    w = (
        s.reshape(20, 5, -1) + 0.05 * torch.randn(20, 5, s.shape[-1], dtype=s.dtype)
    ).requires_grad_()
    tim.loss(s, ys, q, w).backward()
    closed_form = tim.gradient(torch.cat([s, q], 1), ys, q.shape[1], w.detach())
    torch.testing.assert_close(closed_form, w.grad, rtol=1e-9, atol=1e-12)


TRANSDUCTIVE = {
    "kmeans": TransductiveKMeans(),
    "laplacianshot": LaplacianShot(),
    "tim-gd": TIMGD(iterations=300, lr=1e-3),
    "tim-adm": TIMADM(),
    "bd-cspn": BDCSPN(),
}


@pytest.mark.parametrize("name", sorted(TRANSDUCTIVE))
def test_transductive_beats_simpleshot_in_one_shot(digits, name):
    """As published: every transductive method above SimpleShot (CL2N) on the same episodes,
    significantly (paired permutation test over episodes)."""
    from benchbed.stats import paired_permutation

    batch, labels = digits_batch(digits, k_shot=1, episodes=400, seed=7)
    base = accuracy(NearestCentroid("CL2N"), batch, labels)
    ours = accuracy(TRANSDUCTIVE[name], batch, labels)
    assert ours.mean() > base.mean() + 0.02, (name, ours.mean(), base.mean())
    assert paired_permutation(ours.numpy(), base.numpy(), resamples=2000) < 0.01
