import math

import numpy as np
import pytest

from benchbed import stats


def test_t_interval_over_seeds_matches_the_textbook_value():
    ci = stats.mean_ci([1, 2, 3, 4, 5])
    # t(0.975, 4) = 2.7764, s = sqrt(2.5)
    assert ci.mean == 3.0
    assert ci.half_width == pytest.approx(2.7764451 * math.sqrt(2.5) / math.sqrt(5), rel=1e-6)


def test_normal_interval_is_the_few_shot_convention():
    values = [0.5, 0.7, 0.6, 0.8]
    ci = stats.mean_ci(values, method="normal")
    assert ci.half_width == pytest.approx(1.959964 * np.std(values, ddof=1) / 2, rel=1e-6)


def test_one_value_has_no_interval():
    ci = stats.mean_ci([0.9])
    assert ci.mean == 0.9 and math.isnan(ci.low) and ci.n == 1


def test_bootstrap_interval_covers_the_mean_and_shrinks_with_n():
    rng = np.random.default_rng(0)
    small = stats.bootstrap_ci(rng.integers(0, 2, 100))
    large = stats.bootstrap_ci(rng.integers(0, 2, 10_000))
    assert small.low < small.mean < small.high
    assert large.half_width < small.half_width / 5
    # the interval of a proportion near 0.5 with n = 10,000 is about +-0.0098
    assert large.half_width == pytest.approx(1.96 * 0.5 / 100, rel=0.1)


def test_exact_permutation_p_value_by_hand():
    # differences 1, 2, 3: of the 8 sign patterns only +++ and --- reach |sum| >= 6
    assert stats.paired_permutation([1, 2, 3], [0, 0, 0]) == pytest.approx(2 / 8)
    # differences 1, -1: every pattern reaches |sum| >= 0
    assert stats.paired_permutation([1, 0], [0, 1]) == 1.0


def test_paired_tests_see_a_consistent_small_difference_that_unpaired_noise_hides():
    rng = np.random.default_rng(1)
    item_difficulty = rng.normal(0, 1, 400)
    a = item_difficulty + 0.1
    b = item_difficulty + rng.normal(0, 0.05, 400)
    assert stats.paired_bootstrap(a, b) < 0.01
    assert stats.paired_permutation(a, b) < 0.01
    assert stats.paired_bootstrap(b, b + rng.normal(0, 0.05, 400)) > 0.05


def test_wilcoxon_matches_the_exact_table_value():
    # all 6 differences positive: exact two-sided p = 2 / 2^6
    assert stats.wilcoxon([2, 3, 4, 5, 6, 7], [1, 1, 1, 1, 1, 1]) == pytest.approx(2 / 64)
    assert stats.wilcoxon([1, 2], [1, 2]) == 1.0


def test_paired_tests_refuse_unpaired_input():
    with pytest.raises(ValueError, match="same items"):
        stats.paired_bootstrap([1, 2], [1, 2, 3])


def test_resampling_in_chunks_gives_the_same_answer_as_one_draw(monkeypatch):
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, 3_000), rng.normal(0.05, 1, 3_000)
    whole = (stats.bootstrap_ci(a), stats.paired_bootstrap(a, b), stats.paired_permutation(a, b))
    # a budget below one row (3,000 items): the 10,000 resamples come one row at a time
    monkeypatch.setattr(stats, "_CHUNK_ELEMENTS", 1_000)
    chunked = (stats.bootstrap_ci(a), stats.paired_bootstrap(a, b), stats.paired_permutation(a, b))
    assert chunked == whole


def test_bootstrap_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="at least one"):
        stats.bootstrap_ci([])
