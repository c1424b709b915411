"""One leaderboard table: a task's cells grouped into rows, with intervals, ranks and cost.

A row is a model with its parameters on one device (CPU model or GPU name). Within a row
each seed counts once: when a seed was run more than once (a rerun, a newer plugin), the
latest finished cell stands for it.

The main metric is summarised as a mean with a 95% interval: over seeds (Student's t) when
a row has two or more, otherwise over the per-item samples of its one seed (percentile
bootstrap). The rank compares every row with the best one by a paired test on the same
units as its interval: the seeds both rows share, or, when either row has one seed, the
per-item scores of the lowest seed both share. Over too few seeds for the test ever to reach
significance a comparison is undecided: the row is neither tied with the best nor apart.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from benchbed.leaderboard.source import CellRecord, MetricValue
from benchbed.plugins import Registry
from benchbed.specs import HIGHER
from benchbed.stats import Interval, bootstrap_ci, mean_ci, paired_permutation

ALPHA = 0.05
COST_PHASE = "inference"  # the phase whose cost is shown; a task without one shows its first
TEST_NAME = "paired_permutation"
# The smallest p-value an exact sign-flip test can give with n pairs is 2 / 2**n.
MIN_PAIRS_FOR_ALPHA = next(n for n in range(1, 64) if 2 / 2**n < ALPHA)


@dataclass
class Quality:
    interval: Interval
    unit: str  # "seed", "item", "episode", ...

    @property
    def has_ci(self) -> bool:
        return not math.isnan(self.interval.low)

    @property
    def n_label(self) -> str:
        n = self.interval.n
        return f"{n} {self.unit}{'' if n == 1 else 's'}"


@dataclass
class Comparison:
    """How a row was compared with the best row."""

    p_value: float | None  # None: nothing to pair
    pairs: int
    unit: str

    @property
    def decidable(self) -> bool:
        """Whether the test could reject at ALPHA: with fewer than MIN_PAIRS_FOR_ALPHA pairs
        not even the most extreme difference would be significant."""
        return self.p_value is not None and self.pairs >= MIN_PAIRS_FOR_ALPHA

    @property
    def tied(self) -> bool:
        return self.decidable and self.p_value >= ALPHA


@dataclass
class Row:
    model: str
    params: dict
    params_json: str
    device: str
    device_name: str
    cells: list[CellRecord]  # the cell standing for each seed, by seed
    cells_at_once: int | None = None  # shared the machine with this many cells (cost is a share)
    metrics: dict[str, float] = field(default_factory=dict)  # mean over ok seeds
    quality: Quality | None = None
    rank: int | None = None
    comparison: Comparison | None = None  # None for the best row and unranked rows
    cost: dict[str, float | None] = field(default_factory=dict)

    @property
    def ok_cells(self) -> list[CellRecord]:
        return [c for c in self.cells if c.ok]

    @property
    def failed_cells(self) -> list[CellRecord]:
        return [c for c in self.cells if not c.ok]

    @property
    def failed(self) -> bool:
        return not self.ok_cells

    @property
    def tuned_from(self) -> str | None:
        """The study its parameters came from, when `benchbed tune` chose them."""
        return next((c.tuned_from for c in self.cells if c.tuned_from), None)

    @property
    def params_label(self) -> str:
        return ", ".join(f"{k}={_param_text(v)}" for k, v in sorted(self.params.items()))

    @property
    def device_label(self) -> str:
        kind = "GPU" if self.device.startswith("cuda") else self.device.upper()
        label = f"{kind}: {self.device_name}" if self.device_name else kind
        if self.cells_at_once and self.cells_at_once > 1:
            label += f", {self.cells_at_once} cells at a time"
        return label

    @property
    def label(self) -> str:
        params = f" ({self.params_label})" if self.params else ""
        return f"{self.model}{params} on {self.device_label}"

    @property
    def tied(self) -> bool:
        return self.comparison is not None and self.comparison.tied

    @property
    def shown_rank(self) -> int | None:
        """Rows tied with the best share its rank."""
        return 1 if self.tied else self.rank

    @property
    def run_ids(self) -> list[str]:
        return sorted({c.run_id for c in self.cells})

    @property
    def last_finished(self) -> str:
        return max(c.finished_at for c in self.cells)

    @property
    def versions(self) -> list[str]:
        return sorted({v for c in self.cells for v in (c.task_plugin, c.model_plugin) if v})


@dataclass
class Table:
    task: str
    metrics: list[str]  # main metric first
    main_metric: str
    direction: str | None  # None when no installed plugin says (then nothing is ranked)
    installed: bool
    cost_phase: str | None
    rows: list[Row]

    @property
    def has_ties_test(self) -> bool:
        return any(r.comparison is not None for r in self.rows)

    @property
    def underpowered(self) -> bool:
        """Some comparison had too few pairs for the test to ever reach significance."""
        return any(
            r.comparison is not None
            and r.comparison.p_value is not None
            and not r.comparison.decidable
            for r in self.rows
        )

    @property
    def devices(self) -> list[str]:
        return sorted({r.device_label for r in self.rows})


def build_table(task: str, cells: Iterable[CellRecord], registry: Registry) -> Table:
    cells = list(cells)
    spec = registry.tasks.get(task)
    if spec is not None:
        metrics = [spec.primary_metric] + [m for m in spec.metrics if m != spec.primary_metric]
        metric = registry.metrics.get(spec.primary_metric)
        direction = metric.direction if metric else None
    else:
        # The plugin is gone: show what was stored, but without a direction nothing is ranked.
        seen: dict[str, int] = {}
        for cell in cells:
            for name in cell.metrics:
                seen[name] = seen.get(name, 0) + 1
        metrics = sorted(seen, key=lambda m: (-seen[m], m))
        direction = None
    main = metrics[0] if metrics else ""
    rows = _group(cells)
    for row in rows:
        _summarise(row, metrics, main)
    cost_phase = _cost_phase(cells)
    for row in rows:
        row.cost = _cost(row, cost_phase)
    _rank(rows, direction, main)
    return Table(task, metrics, main, direction, spec is not None, cost_phase, rows)


def _group(cells: list[CellRecord]) -> list[Row]:
    groups: dict[tuple, dict[int, CellRecord]] = {}
    for cell in cells:
        # A run of one cell at a time and a run that did not record it (older stores) agree.
        shared = cell.cells_at_once if (cell.cells_at_once or 1) > 1 else None
        key = (cell.model, cell.params_json, cell.device, cell.device_name, shared)
        by_seed = groups.setdefault(key, {})
        kept = by_seed.get(cell.seed)
        if kept is None or cell.finished_at > kept.finished_at:
            by_seed[cell.seed] = cell
    return [
        Row(
            model,
            by_seed[min(by_seed)].params,
            params_json,
            device,
            device_name,
            [by_seed[s] for s in sorted(by_seed)],
            cells_at_once,
        )
        for (model, params_json, device, device_name, cells_at_once), by_seed in groups.items()
    ]


def _summarise(row: Row, metrics: list[str], main: str) -> None:
    for name in metrics:
        values = [c.metrics[name].value for c in row.ok_cells if name in c.metrics]
        values = [v for v in values if v is not None]
        if values:
            row.metrics[name] = math.fsum(values) / len(values)
    row.quality = quality(row, main)


def quality(row: Row, main: str) -> Quality | None:
    """Mean ± 95% interval of the main metric: over seeds, or over one seed's items."""
    scored = list(_per_seed(row, main).values())
    if not scored:
        return None
    if len(scored) >= 2:
        return Quality(mean_ci([v.value for v in scored]), "seed")
    value = scored[0]
    samples = value.samples()
    # Samples that do not average to the value (say, per-class scores behind a macro F1)
    # say nothing about the uncertainty of that value.
    if (
        samples
        and len(samples) >= 2
        and math.isclose(
            math.fsum(samples) / len(samples), value.value, rel_tol=1e-9, abs_tol=1e-12
        )
    ):
        return Quality(bootstrap_ci(samples), value.unit or "item")
    return Quality(Interval(value.value, math.nan, math.nan, 1), "seed")


def _rank(rows: list[Row], direction: str | None, main: str) -> None:
    ranked = [r for r in rows if r.quality is not None]
    sign = -1 if direction == HIGHER else 1
    ranked.sort(
        key=lambda r: (sign * r.quality.interval.mean, r.model, r.params_json, r.device_label)
    )
    unranked = sorted(
        (r for r in rows if r.quality is None), key=lambda r: (r.model, r.params_json)
    )
    rows[:] = ranked + unranked
    if direction is None or not ranked:
        return
    best = ranked[0]
    for position, row in enumerate(ranked, start=1):
        row.rank = position
        if row is not best:
            row.comparison = compare(best, row, main)


def compare(best: Row, row: Row, main: str) -> Comparison:
    """Paired test of `row` against `best`: over the seeds both share when both intervals
    are over seeds, otherwise over the per-item scores of the lowest seed both share."""
    a, b = _per_seed(best, main), _per_seed(row, main)
    shared = sorted(set(a) & set(b))
    if best.quality.unit == row.quality.unit == "seed" and len(shared) >= 2:
        p = paired_permutation([a[s].value for s in shared], [b[s].value for s in shared])
        return Comparison(p, len(shared), "seed")
    for seed in shared:
        x, y = a[seed].samples(), b[seed].samples()
        if x and y and len(x) == len(y) and a[seed].unit == b[seed].unit:
            return Comparison(paired_permutation(x, y), len(x), a[seed].unit or "item")
    return Comparison(None, 0, row.quality.unit)


def _per_seed(row: Row, main: str) -> dict[int, MetricValue]:
    return {
        c.seed: c.metrics[main]
        for c in row.ok_cells
        if main in c.metrics and c.metrics[main].value is not None
    }


def _cost_phase(cells: list[CellRecord]) -> str | None:
    phases = [p for c in cells for p in c.timings]
    if COST_PHASE in phases:
        return COST_PHASE
    return phases[0] if phases else None


def _cost(row: Row, phase: str | None) -> dict[str, float | None]:
    cost: dict[str, float | None] = {}
    for column in ("throughput", "latency_p50_ms", "latency_p99_ms"):
        values = [
            c.timings[phase][column]
            for c in row.ok_cells
            if phase in c.timings and c.timings[phase][column] is not None
        ]
        # The median: one slow seed (a cold cache, a busy machine) should not move the row.
        cost[column] = statistics.median(values) if values else None
    return cost


def _param_text(value) -> str:
    return "null" if value is None else str(value)
