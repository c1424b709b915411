import numpy as np
import pytest
from benchbed_cascades import curves
from benchbed_cascades.rules import (
    CascadeData,
    ChowAverage,
    ChowQuantile,
    ChowSum,
    Oracle,
    PostHoc,
    Random,
    token_quantiles,
)

from benchbed import BenchbedError


def data(logprobs, q_small=None, q_large=None, d=3):
    n = len(logprobs)
    zeros = np.zeros(n)
    return CascadeData(
        [np.log(np.asarray(p, float)) for p in logprobs],
        np.zeros((n, d)),
        np.zeros((n, d)),
        zeros if q_small is None else np.asarray(q_small, float),
        zeros if q_large is None else np.asarray(q_large, float),
    )


def test_chow_rules_follow_their_definitions():
    d = data([[0.9, 0.9, 0.9, 0.9], [0.5], [0.99, 0.2]])
    # Chow-Sum: log(0.9^4)=-0.42 > log 0.5=-0.69 > log(0.198)=-1.62: defers item 2 first
    assert np.argsort(-ChowSum().score(d)).tolist() == [2, 1, 0]
    # Chow-Average: mean log-prob -0.105, -0.69, -0.81
    assert ChowAverage().score(d) == pytest.approx(
        -np.array([np.log(0.9), np.log(0.5), np.log(0.99 * 0.2) / 2])
    )
    # Chow-Quantile-0 is the least confident token: 0.9, 0.5, 0.2
    assert ChowQuantile(0).score(d) == pytest.approx([-0.9, -0.5, -0.2])
    assert ChowQuantile(1).score(d) == pytest.approx([-0.9, -0.5, -0.99])


def test_length_bias_of_chow_sum():
    # a long, uniformly confident answer vs a short one with one weak token
    long_sure = [0.95] * 20
    short_unsure = [0.5]
    d = data([long_sure, short_unsure])
    assert ChowSum().score(d)[0] > ChowSum().score(d)[1]  # Chow-Sum defers the long one first
    assert ChowQuantile(0).score(d)[0] < ChowQuantile(0).score(d)[1]  # the minimum does not


def test_token_quantiles_interpolate_probabilities():
    q = token_quantiles([np.log([0.2, 0.4, 0.6])], [0, 0.5, 0.75, 1])
    assert q[0] == pytest.approx([0.2, 0.4, 0.5, 0.6])


def test_alpha_outside_unit_interval_is_an_error():
    with pytest.raises(BenchbedError):
        ChowQuantile(1.5)
    with pytest.raises(BenchbedError):
        PostHoc(features="nope")


def test_oracle_and_random_references():
    rng = np.random.default_rng(0)
    q_small, q_large = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
    d = data([[0.5]] * 400, q_small, q_large)
    oracle = Oracle()
    oracle.fit(d, rng)
    _, best = curves.deferral_curve(curves.oracle_scores(q_small, q_large), q_small, q_large)
    _, got = curves.deferral_curve(oracle.score(d), q_small, q_large)
    assert np.allclose(got, best)
    r = Random()
    r.fit(d, np.random.default_rng(5))
    a = r.score(d)
    r.fit(d, np.random.default_rng(5))
    assert np.array_equal(a, r.score(d))  # seeded
    assert curves.auc_df(a, q_small, q_large) == pytest.approx(
        curves.random_auc(q_small, q_large), abs=0.03
    )


def synthetic(n, rng):
    """The large model helps exactly where the small model has a weak token; output lengths
    vary so that neither the sum nor the mean of log-probs sees this cleanly."""
    logprobs, q_small, q_large = [], [], []
    for _ in range(n):
        length = int(rng.integers(1, 30))
        p = rng.uniform(0.75, 1.0, length)
        weak = rng.random() < 0.5
        if weak:
            p[rng.integers(length)] = rng.uniform(0.2, 0.5)
        logprobs.append(np.log(p))
        q_small.append(0.0 if weak else 1.0)
        q_large.append(1.0)
    n_ = len(logprobs)
    return CascadeData(logprobs, rng.normal(size=(n_, 4)), rng.normal(size=(n_, 4)),
                       np.array(q_small), np.array(q_large))  # fmt: skip


def test_post_hoc_quantile_learns_the_weak_token_signal():
    rng = np.random.default_rng(0)
    train, test = synthetic(300, rng), synthetic(300, rng)
    rule = PostHoc("quantile", hidden=16)
    rule.fit(train, np.random.default_rng(1))
    learned = curves.auc_df(rule.score(test), test.q_small, test.q_large)
    chow_sum = curves.auc_df(ChowSum().score(test), test.q_small, test.q_large)
    oracle = curves.auc_df(
        curves.oracle_scores(test.q_small, test.q_large), test.q_small, test.q_large
    )
    assert learned > chow_sum + 0.03  # Chow-Sum defers long, confident outputs first
    assert learned > oracle - 0.02


def test_post_hoc_embedding_features_and_cost_flag():
    rng = np.random.default_rng(3)
    train, test = synthetic(120, rng), synthetic(60, rng)
    for features, extra in (("embed-1", ""), ("embed-1+2", "large-mid")):
        for pca in (0, 2):
            rule = PostHoc(features, hidden=8, pca=pca)
            rule.fit(train, np.random.default_rng(0))
            s = rule.score(test)
            assert s.shape == (60,) and np.isfinite(s).all()
            assert rule.extra_cost == extra
