"""One crafted case per comparison rule (compare.py)."""

from benchbed_text2sql.compare import result_key, results_match


def test_rows_are_a_multiset_duplicates_count():
    assert results_match([(1,), (2,)], [(2,), (1,)], ordered=False)
    assert not results_match([(1,), (1,)], [(1,)], ordered=False)
    assert not results_match([(1,), (1,), (2,)], [(1,), (2,), (2,)], ordered=False)


def test_row_order_matters_only_when_gold_orders():
    assert results_match([(1,), (2,)], [(1,), (2,)], ordered=True)
    assert not results_match([(1,), (2,)], [(2,), (1,)], ordered=True)


def test_column_order_is_tolerated_but_must_be_one_permutation():
    assert results_match([(1, "a"), (2, "b")], [("a", 1), ("b", 2)], ordered=False)
    assert results_match([(1, "a"), (2, "b")], [("a", 1), ("b", 2)], ordered=True)
    # each column holds the right values, but the rows pair them differently
    assert not results_match([(1, "a"), (2, "b")], [("b", 1), ("a", 2)], ordered=False)
    # two columns with equal value sets: the permutation search must try both
    assert results_match([(1, 2), (2, 1), (2, 2)], [(2, 1), (1, 2), (2, 2)], ordered=False)


def test_shapes_must_agree():
    assert not results_match([(1,)], [(1,), (1,)], ordered=False)
    assert not results_match([(1,)], [(1, 1)], ordered=False)
    assert results_match([], [], ordered=False)
    assert not results_match([], [(None,)], ordered=False)


def test_float_policy_six_significant_digits():
    assert results_match([(2.5,)], [(2.4999999999,)], ordered=False)
    assert results_match([(3,)], [(3.0,)], ordered=False)
    assert results_match([(0.99,)], [(0.9900000000000079,)], ordered=False)
    assert not results_match([(2.5,)], [(2.51,)], ordered=False)


def test_float_policy_large_values_keep_six_digits():
    # 6 significant digits: 1234567 and 1234568 both round to 1234570
    assert results_match([(1234567.0,)], [(1234568.0,)], ordered=False)
    assert not results_match([(1234567.0,)], [(1234667.0,)], ordered=False)


def test_strings_exact_and_null_only_equals_null():
    assert not results_match([("France",)], [("france",)], ordered=False)
    assert results_match([(None,)], [(None,)], ordered=False)
    assert not results_match([(None,)], [(0,)], ordered=False)
    assert not results_match([("1",)], [(1,)], ordered=False)


def test_vote_key_ignores_row_order_not_values():
    assert result_key([(1,), (2,)]) == result_key([(2,), (1,)])
    assert result_key([(1,), (2,)]) != result_key([(1,), (1,)])
