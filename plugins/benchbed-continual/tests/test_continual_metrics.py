"""Every metric on small matrices whose values are worked out by hand."""

import numpy as np
import pytest
from benchbed_continual import metrics as M

# Three contexts. Row i: accuracies after training context i.
R = [
    [0.9, 0.1, 0.2],
    [0.6, 0.8, 0.3],
    [0.5, 0.7, 0.95],
]
B = [0.1, 0.2, 0.25]  # the random initialisation's accuracies
REF = [0.92, 0.85, 0.9]  # joint learner after contexts 0..j, tested on j


def test_average_accuracy_is_the_mean_of_the_last_row():
    assert M.average_accuracy(R) == pytest.approx((0.5 + 0.7 + 0.95) / 3)


def test_average_incremental_accuracy():
    # after 0: 0.9; after 1: (0.6 + 0.8) / 2 = 0.7; after 2: 2.15 / 3
    assert M.average_incremental_accuracy(R) == pytest.approx((0.9 + 0.7 + 2.15 / 3) / 3)


def test_forgetting_uses_the_best_earlier_accuracy():
    # context 0: max(0.9, 0.6) - 0.5 = 0.4; context 1: max(0.1, 0.8) - 0.7 = 0.1
    assert M.forgetting_per_context(R) == pytest.approx([0.4, 0.1])
    assert M.forgetting(R) == pytest.approx(0.25)


def test_forgetting_differs_from_backward_transfer_when_accuracy_peaks_later():
    peaked = [[0.5, 0.0, 0.0], [0.9, 0.8, 0.0], [0.7, 0.8, 0.9]]
    assert M.forgetting_per_context(peaked) == pytest.approx([0.2, 0.0])
    assert M.backward_transfer_per_context(peaked) == pytest.approx([0.2, 0.0])


def test_backward_transfer():
    # (0.5 - 0.9 + 0.7 - 0.8) / 2
    assert M.backward_transfer(R) == pytest.approx(-0.25)


def test_forward_transfer_against_the_random_initialisation():
    # context 1: R[0][1] - b1 = 0.1 - 0.2; context 2: R[1][2] - b2 = 0.3 - 0.25
    assert M.forward_transfer_per_context(R, B) == pytest.approx([-0.1, 0.05])
    assert M.forward_transfer(R, B) == pytest.approx(-0.025)


def test_intransigence_against_the_joint_reference():
    # 0.92 - 0.9, 0.85 - 0.8, 0.9 - 0.95
    assert M.intransigence_per_context(R, REF) == pytest.approx([0.02, 0.05, -0.05])
    assert M.intransigence(R, REF) == pytest.approx(0.02 / 3)


def test_a_single_context_has_no_forgetting_or_transfer():
    assert M.forgetting([[0.7]]) == 0.0
    assert M.backward_transfer([[0.7]]) == 0.0
    assert M.forward_transfer([[0.7]], [0.1]) == 0.0


def test_shapes_are_checked():
    with pytest.raises(ValueError, match="square"):
        M.average_accuracy(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="one accuracy per context"):
        M.forward_transfer(R, [0.1, 0.2])


def test_area_under_accuracy_is_the_mean_of_an_evenly_spaced_curve():
    assert M.area_under_accuracy([0.2, 0.5, 0.8]) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        M.area_under_accuracy([])
