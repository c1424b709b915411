import numpy as np
import pytest
from benchbed_cascades import curves


def test_hand_computed_small_example():
    # 4 items; deferral order by score: c (0.9), a (0.5), d (0.2), b (0.1)
    scores = np.array([0.5, 0.1, 0.9, 0.2])
    q_small = np.array([0, 1, 0, 1])
    q_large = np.array([1, 1, 1, 0])
    rates, quality = curves.deferral_curve(scores, q_small, q_large)
    # start 2/4; defer c (+1) -> 3/4; a (+1) -> 4/4; d (-1) -> 3/4; b (0) -> 3/4
    assert rates.tolist() == [0, 0.25, 0.5, 0.75, 1.0]
    assert quality.tolist() == pytest.approx([0.5, 0.75, 1.0, 0.75, 0.75])
    # trapezoids of width 1/4: (0.5+0.75 + 0.75+1 + 1+0.75 + 0.75+0.75) / 8 = 6.25 / 8
    assert curves.auc(rates, quality) == pytest.approx(0.78125)
    assert curves.random_auc(q_small, q_large) == pytest.approx(0.625)
    assert curves.relative_improvement(0.78125, q_small, q_large) == pytest.approx(0.25)
    assert curves.match_large(rates, quality, 0.75) == 0.25


def test_perfect_separation_gives_the_oracle_curve():
    rng = np.random.default_rng(0)
    q_small = rng.integers(0, 2, 200)
    q_large = rng.integers(0, 2, 200)
    gain = q_large - q_small
    # any score that orders items by gain (here a monotone transform plus jitter inside classes)
    separating = 10 * gain + rng.random(200)
    _, oracle = curves.deferral_curve(curves.oracle_scores(q_small, q_large), q_small, q_large)
    _, curve = curves.deferral_curve(separating, q_small, q_large)
    assert np.allclose(curve, oracle)
    # the oracle rises to q_small + positive gains, and ends at q_large
    assert oracle.max() == pytest.approx((q_small.sum() + (gain > 0).sum()) / 200)
    assert oracle[-1] == pytest.approx(q_large.mean())
    # a score that orders items the wrong way round is strictly worse
    assert curves.auc_df(-separating, q_small, q_large) < curves.auc_df(
        separating, q_small, q_large
    )


def test_random_scores_give_auc_random():
    rng = np.random.default_rng(1)
    q_small = (rng.random(2000) < 0.4).astype(float)
    q_large = (rng.random(2000) < 0.7).astype(float)
    aucs = [curves.auc_df(rng.random(2000), q_small, q_large) for _ in range(20)]
    assert np.mean(aucs) == pytest.approx(curves.random_auc(q_small, q_large), abs=0.005)
    # a constant score is random deferral in expectation: exactly the straight line
    rates, quality = curves.deferral_curve(np.zeros(2000), q_small, q_large)
    assert np.allclose(quality, q_small.mean() + rates * (q_large.mean() - q_small.mean()))
    assert curves.auc(rates, quality) == pytest.approx(curves.random_auc(q_small, q_large))


def test_ties_do_not_depend_on_input_order():
    scores = np.array([1.0, 1.0, 0.0, 0.0])
    q_small = np.array([0, 1, 0, 0])
    q_large = np.array([1, 0, 1, 0])
    a = curves.auc_df(scores, q_small, q_large)
    perm = [1, 0, 3, 2]
    b = curves.auc_df(scores[perm], q_small[perm], q_large[perm])
    assert a == pytest.approx(b)


def test_per_item_contributions_average_to_the_auc():
    rng = np.random.default_rng(2)
    for _ in range(5):
        q_small, q_large = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
        scores = rng.integers(0, 5, 50).astype(float)  # many ties
        terms = curves.auc_contributions(scores, q_small, q_large)
        assert terms.mean() == pytest.approx(curves.auc_df(scores, q_small, q_large))


def test_cost_curve_charges_small_always_and_large_when_deferred():
    latency, quality = curves.cost_curve(
        np.array([0, 0.5, 1]), np.array([0.1, 0.2, 0.3]), 10, 100, 5
    )
    assert latency.tolist() == [15, 65, 115]
    assert quality.tolist() == [0.1, 0.2, 0.3]


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError):
        curves.deferral_curve([1, 2], [0], [1, 1])
