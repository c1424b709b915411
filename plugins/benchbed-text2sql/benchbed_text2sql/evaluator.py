"""Judging one predicted query against the gold one, and the metrics over a benchmark.

A prediction is correct (execution accuracy, test-suite semantics) when its result matches
the gold result on every database instance of its schema (compare.py states the rules).
Otherwise it is, from the first instance where it fails: a syntax error, a runtime error
(unknown table or column, a refused statement, too many rows...), a timeout, or a wrong
result. Exact set match (sqlinfo.py) and BIRD's valid efficiency score are reported beside.

Valid efficiency score (BIRD, Li et al. 2023): the mean over questions of
1[correct] * sqrt(time(gold) / time(predicted)). Each query is timed `repeats` times on the
first instance, gold and prediction interleaved, and the median is used, since single runs
of sub-millisecond queries are noise. 1.0 means "as fast as the gold query".
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from benchbed_text2sql.compare import results_match
from benchbed_text2sql.sandbox import OK, RUNTIME_ERROR, Execution, Sandbox
from benchbed_text2sql.sqlinfo import HARDNESS_LEVELS, Schema, exact_set_match, top_level_orders

CORRECT = "correct"
WRONG_RESULT = "wrong_result"
CATEGORIES = (CORRECT, "syntax_error", RUNTIME_ERROR, "timeout", WRONG_RESULT)


@dataclass
class Verdict:
    category: str
    exact: bool
    ves: float
    error: str | None = None

    @property
    def correct(self) -> bool:
        return self.category == CORRECT


class GoldCache:
    """Gold results per (instance, query), computed once: every model is judged against them."""

    def __init__(self):
        self._results: dict[tuple[str, str], Execution] = {}

    def get(self, sandbox: Sandbox, sql: str) -> Execution:
        key = (str(sandbox.path), sql)
        if key not in self._results:
            self._results[key] = sandbox.execute(sql)
        return self._results[key]


def judge(
    gold: str,
    pred: str,
    sandboxes: Sequence[Sandbox],
    schema: Schema | None = None,
    gold_cache: GoldCache | None = None,
    ves_repeats: int = 5,
) -> Verdict:
    gold_cache = gold_cache or GoldCache()
    ordered = top_level_orders(gold)
    exact = exact_set_match(gold, pred, schema)
    for sandbox in sandboxes:
        expected = gold_cache.get(sandbox, gold)
        if expected.status != OK:
            raise ValueError(f"gold query fails on {sandbox.path.name}: {expected.error}\n{gold}")
        got = sandbox.execute(pred)
        if got.status != OK:
            return Verdict(got.status, exact, 0.0, got.error)
        if not results_match(expected.rows, got.rows, ordered):
            return Verdict(WRONG_RESULT, exact, 0.0)
    ratio = relative_speed(gold, pred, sandboxes[0], ves_repeats) if ves_repeats else 1.0
    return Verdict(CORRECT, exact, math.sqrt(ratio))


def relative_speed(gold: str, pred: str, sandbox: Sandbox, repeats: int) -> float:
    """time(gold) / time(pred), medians of interleaved runs."""
    gold_times, pred_times = [], []
    for _ in range(repeats):
        gold_times.append(sandbox.execute(gold).seconds)
        pred_times.append(sandbox.execute(pred).seconds)
    return max(statistics.median(gold_times), 1e-9) / max(statistics.median(pred_times), 1e-9)


def summarize(verdicts: Sequence[Verdict], hardness: Sequence[str]) -> tuple[dict, dict]:
    """Metric Scores (overall and per hardness level) and a breakdown table for artifacts."""
    from benchbed import Score

    metrics = {
        "execution_accuracy": Score.mean_of([v.correct for v in verdicts]),
        "exact_set_match": Score.mean_of([v.exact for v in verdicts]),
        "valid_efficiency_score": Score.mean_of([v.ves for v in verdicts]),
    }
    for category in CATEGORIES[1:]:
        metrics[f"{category}_rate"] = Score.mean_of([v.category == category for v in verdicts])
    breakdown = {}
    for level in HARDNESS_LEVELS:
        subset = [v for v, h in zip(verdicts, hardness) if h == level]
        if not subset:
            continue
        metrics[f"execution_accuracy_{level}"] = Score.mean_of([v.correct for v in subset])
        metrics[f"exact_set_match_{level}"] = Score.mean_of([v.exact for v in subset])
        counts = Counter(v.category for v in subset)
        breakdown[level] = {
            "questions": len(subset),
            **{c: counts.get(c, 0) for c in CATEGORIES},
            "exact_set_match": sum(v.exact for v in subset),
            "valid_efficiency_score": round(sum(v.ves for v in subset) / len(subset), 4),
        }
    counts = Counter(v.category for v in verdicts)
    breakdown["all"] = {
        "questions": len(verdicts),
        **{c: counts.get(c, 0) for c in CATEGORIES},
        "exact_set_match": sum(v.exact for v in verdicts),
        "valid_efficiency_score": round(sum(v.ves for v in verdicts) / len(verdicts), 4),
    }
    return metrics, breakdown


METRIC_NAMES = (
    "execution_accuracy",
    "exact_set_match",
    "valid_efficiency_score",
    *(f"{c}_rate" for c in CATEGORIES[1:]),
    *(f"execution_accuracy_{h}" for h in HARDNESS_LEVELS),
    *(f"exact_set_match_{h}" for h in HARDNESS_LEVELS),
)


def open_sandboxes(paths: Sequence[Path], timeout_s: float, max_rows: int) -> list[Sandbox]:
    return [Sandbox(p, timeout_s=timeout_s, max_rows=max_rows) for p in paths]
