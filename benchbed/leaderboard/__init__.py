"""The static HTML leaderboard: `build_site(dbs, out)` renders the results store(s) as pages.

    index.html            suites and tasks, when each was last run, on which devices
    task-NAME-HASH.html   one per task: every stored row of that task
    suite-NAME-HASH.html  one per suite: its tasks, each limited to the suite's cells
    *.csv, *.json         the exports of each page, next to it
    style.css, sort.js    the only assets; nothing is fetched from the network

Modules: source (reading and merging stores), table (rows, intervals, ranks, cost),
plots (SVG), exports (CSV/JSON), pages (templates and number formats).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from benchbed import __version__
from benchbed.leaderboard import exports, pages, plots, source
from benchbed.leaderboard.table import Table, build_table
from benchbed.store import now

GENERATED = re.compile(r"^(index\.html|(task|suite)-[a-z0-9-]+\.(html|csv|json))$")


@dataclass
class Section:
    table: Table
    anchor: str
    plot: Markup | None
    figures: list[plots.Figure]
    description: str = ""


@dataclass
class Page:
    kind: str  # "task" or "suite"
    name: str
    stem: str
    sections: list[Section] = field(default_factory=list)
    figures: list[plots.SuiteFigure] = field(default_factory=list)  # across the suite's tasks

    @property
    def tables(self) -> list[Table]:
        return [s.table for s in self.sections]

    @property
    def rows(self) -> list:
        return [row for t in self.tables for row in t.rows]

    @property
    def ok_cells(self) -> int:
        return sum(len(row.ok_cells) for row in self.rows)

    @property
    def failed_cells(self) -> int:
        return sum(len(row.failed_cells) for row in self.rows)

    @property
    def last_finished(self) -> str:
        return max(row.last_finished for row in self.rows)

    @property
    def devices(self) -> list[str]:
        return sorted({d for t in self.tables for d in t.devices})

    @property
    def run_ids(self) -> list[str]:
        return sorted({r for row in self.rows for r in row.run_ids})


def build_site(dbs: Sequence[str | Path] | None, out: str | Path, registry=None) -> Path:
    """Render the leaderboard of the stores `dbs` (None: the default store) into `out`.

    Returns the path of index.html. `registry` defaults to the installed plugins.
    """
    results = source.load(dbs)
    try:
        if registry is None:
            from benchbed.plugins import load_registry

            registry = load_registry()
        return _build(results, Path(out), registry)
    finally:
        results.close()


def _build(results: source.Results, out: Path, registry) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():  # pages of tasks or suites that are no longer stored
        if old.is_file() and GENERATED.match(old.name):
            old.unlink()
    env = pages.environment()
    figure_cache: dict = {}
    by_task: dict[str, list[source.CellRecord]] = {}
    for cell in results.cells:
        by_task.setdefault(cell.task, []).append(cell)

    def section(task: str, cells: list[source.CellRecord]) -> Section:
        table = build_table(task, cells, registry)
        plot = plots.quality_vs_throughput(table)
        spec = registry.tasks.get(task)
        return Section(
            table=table,
            anchor=slug(task),
            plot=Markup(plot) if plot else None,  # built from escaped text in plots.py
            figures=plots.plugin_figures(table, registry, results, figure_cache),
            description=spec.description if spec is not None else "",
        )

    task_pages = []
    for task, cells in by_task.items():
        task_pages.append(Page("task", task, f"task-{slug(task)}", [section(task, cells)]))
    suite_pages = []
    for suite in sorted(results.suites):
        keys = results.suites[suite]
        page = Page("suite", suite, f"suite-{slug(suite)}")
        for task_page, cells in zip(task_pages, by_task.values()):
            chosen = [c for c in cells if c.key in keys]
            if len(chosen) == len(cells):  # the whole task: its table is already built
                page.sections.append(task_page.sections[0])
            elif chosen:
                page.sections.append(section(task_page.name, chosen))
        if page.sections:
            page.figures = plots.suite_figures(suite, page.tables, registry)
            suite_pages.append(page)

    meta = {
        "generated_at": now(),
        "benchbed_version": __version__,
        "sources": [str(p) for p in results.sources],
    }
    common = {**meta, "task_pages": {p.name: p.stem for p in task_pages}}
    for page in task_pages + suite_pages:
        runs = [results.runs[r] for r in page.run_ids if r in results.runs]
        header = {"page": page.kind, "name": page.name, **meta}
        exports.write_csv(out / f"{page.stem}.csv", page.tables)
        exports.write_json(out / f"{page.stem}.json", header, page.tables, runs)
        pages.render(env, "page.html", out / f"{page.stem}.html", page=page, runs=runs, **common)
    pages.render(
        env,
        "index.html",
        out / "index.html",
        tasks=task_pages,
        suites=suite_pages,
        problems=registry.problems(),
        **common,
    )
    pages.copy_static(out)
    return out / "index.html"


def slug(name: str) -> str:
    """A file-name-safe, collision-free stem: readable part plus a hash of the exact name."""
    readable = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-")
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{readable}-{digest}" if readable else digest
