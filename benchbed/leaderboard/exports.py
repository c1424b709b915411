"""CSV and JSON exports of a page, written next to it: every number at full precision.

The CSV has one line per leaderboard row (metric columns are `metric:NAME`); the JSON adds
the cells behind each row and the provenance of the runs that produced them.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from benchbed.leaderboard.table import Row, Table

COLUMNS = [
    "task", "model", "params", "device", "device_name", "cells_at_once", "rank", "tied_with_best",
    "p_value", "test_pairs", "test_unit", "main_metric", "mean", "ci_low", "ci_high", "n", "n_unit",
    "throughput", "latency_p50_ms", "latency_p99_ms", "cost_phase", "seeds_ok", "seeds_failed",
    "error", "runs", "versions", "last_finished",
]  # fmt: skip


def row_record(table: Table, row: Row) -> dict:
    q = row.quality
    c = row.comparison
    record = {
        "task": table.task,
        "model": row.model,
        "params": row.params_json,
        "device": row.device,
        "device_name": row.device_name,
        "cells_at_once": row.cells_at_once,
        "rank": row.shown_rank,
        "tied_with_best": row.tied if c is not None and c.decidable else None,
        "p_value": c.p_value if c is not None else None,
        "test_pairs": c.pairs if c is not None else None,
        "test_unit": c.unit if c is not None else None,
        "main_metric": table.main_metric,
        "mean": q.interval.mean if q else None,
        "ci_low": q.interval.low if q else None,
        "ci_high": q.interval.high if q else None,
        "n": q.interval.n if q else None,
        "n_unit": q.unit if q else None,
        **{
            column: row.cost.get(column)
            for column in ("throughput", "latency_p50_ms", "latency_p99_ms")
        },
        "cost_phase": table.cost_phase,
        "seeds_ok": " ".join(str(cell.seed) for cell in row.ok_cells),
        "seeds_failed": " ".join(str(cell.seed) for cell in row.failed_cells),
        "error": row.failed_cells[-1].error_line if row.failed_cells else None,
        "runs": " ".join(row.run_ids),
        "versions": " ".join(row.versions),
        "last_finished": row.last_finished,
    }
    for metric in table.metrics:
        record[f"metric:{metric}"] = row.metrics.get(metric)
    return {key: _number(value) for key, value in record.items()}


def write_csv(path: Path, tables: list[Table]) -> None:
    metric_columns = sorted({f"metric:{m}" for t in tables for m in t.metrics})
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS + metric_columns)
        writer.writeheader()
        for table in tables:
            writer.writerows(row_record(table, row) for row in table.rows)


def write_json(path: Path, page: dict, tables: list[Table], runs: list[dict]) -> None:
    payload = {
        **page,
        "tables": [
            {
                "task": t.task,
                "metrics": t.metrics,
                "main_metric": t.main_metric,
                "direction": t.direction,
                "rows": [
                    {**row_record(t, row), "cells": [_cell_record(cell) for cell in row.cells]}
                    for row in t.rows
                ],
            }
            for t in tables
        ],
        "runs": runs,
    }
    # Compact: indenting makes json fall back to its pure-Python encoder, ten times slower.
    path.write_text(json.dumps(payload, separators=(",", ":"), allow_nan=False), encoding="utf-8")


def _cell_record(cell) -> dict:
    return {
        "cell_key": cell.key,
        "seed": cell.seed,
        "status": cell.status,
        "error": cell.error,
        "run_id": cell.run_id,
        "finished_at": cell.finished_at,
        "duration_s": cell.duration_s,
        "task_plugin": cell.task_plugin,
        "model_plugin": cell.model_plugin,
        "metrics": {
            name: {"value": _number(m.value), "n": m.n, "unit": m.unit}
            for name, m in cell.metrics.items()
        },
        "timings": {
            phase: {k: _number(v) for k, v in t.items() if k not in ("cell_key", "phase")}
            for phase, t in cell.timings.items()
        },
    }


def _number(value):
    """JSON has no NaN: an interval that does not exist is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
