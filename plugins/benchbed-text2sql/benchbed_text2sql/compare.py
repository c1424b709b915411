"""Comparing two query results with test-suite semantics (Zhong et al. 2020).

Rules (each has a crafted case in tests/test_text2sql_compare.py):
- results are multisets of rows: duplicates count, row order is ignored ...
- ... unless the gold query's outermost SELECT has ORDER BY: then row order must match;
- column order is tolerated: the prediction matches if some permutation of its columns
  matches (column names are never compared);
- the number of rows and of columns must be equal;
- float policy: every float is rounded to 6 significant digits before comparing, so
  2.5 and 2.4999999999 are equal and 3.0 equals the integer 3; strings compare exactly
  (case-sensitive), NULL equals only NULL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

FLOAT_DIGITS = 6
MAX_PERMUTED_COLUMNS = 8


def normalize_value(value):
    if isinstance(value, float):
        if value != value:  # NaN
            return "NaN"
        rounded = float(f"{value:.{FLOAT_DIGITS}g}")
        return int(rounded) if rounded.is_integer() and abs(rounded) < 2**53 else rounded
    if isinstance(value, bool):
        return int(value)
    return value


def normalize_rows(rows: Sequence[Sequence]) -> list[tuple]:
    return [tuple(normalize_value(v) for v in row) for row in rows]


def _column_key(rows: list[tuple], j: int) -> tuple:
    return tuple(sorted(repr(r[j]) for r in rows))


def _permutations(gold: list[tuple], pred: list[tuple], width: int):
    """Column permutations of `pred` whose columns each hold the same values as gold's."""
    gold_keys = [_column_key(gold, j) for j in range(width)]
    pred_keys = [_column_key(pred, j) for j in range(width)]
    candidates = [[k for k in range(width) if pred_keys[k] == gold_keys[j]] for j in range(width)]
    if any(not c for c in candidates):
        return

    def extend(prefix: list[int]):
        if len(prefix) == width:
            yield tuple(prefix)
            return
        for k in candidates[len(prefix)]:
            if k not in prefix:
                yield from extend(prefix + [k])

    yield from extend([])


def results_match(
    gold_rows: Sequence[Sequence], pred_rows: Sequence[Sequence], ordered: bool
) -> bool:
    gold, pred = normalize_rows(gold_rows), normalize_rows(pred_rows)
    if len(gold) != len(pred):
        return False
    if not gold:
        return True
    width = len(gold[0])
    if len(pred[0]) != width:
        return False
    if width > MAX_PERMUTED_COLUMNS:  # too wide to search permutations: exact column order
        options = [tuple(range(width))]
    else:
        options = _permutations(gold, pred, width)
    gold_counts = None if ordered else Counter(gold)
    for perm in options:
        permuted = [tuple(row[k] for k in perm) for row in pred]
        if ordered and permuted == gold:
            return True
        if not ordered and Counter(permuted) == gold_counts:
            return True
    return False


def result_key(rows: Sequence[Sequence]) -> tuple:
    """A hashable key equal for results that match as unordered multisets with columns in
    the same order: what self-consistency votes over."""
    return tuple(sorted(Counter(normalize_rows(rows)).items(), key=repr))
