"""The `benchbed` command.

    benchbed plugins [--strict]
    benchbed list tasks|models|metrics|suites|kinds
    benchbed run suite NAME [--rerun] [--device auto|cpu|cuda] [--executor serial|process]
    benchbed run TASK --model M [--param k=v ...] [--seed N]
    benchbed results [--suite S] [--task T] [--format table|csv|json] [--output FILE]

Only what a command needs is imported, so listing and help stay fast (no torch).
Exit status: 0 success, 1 some cells failed, 2 a user error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Sequence

from benchbed import __version__
from benchbed.errors import BenchbedError, unknown

LISTABLE = ("tasks", "models", "metrics", "suites", "kinds")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="benchbed",
        description="Plugin-based benchmarking of ML research methods: quality next to cost.",
    )
    parser.add_argument("--version", action="version", version=f"benchbed {__version__}")
    parser.add_argument("--strict", action="store_true", help="treat a broken plugin as an error")
    parser.add_argument("-v", "--verbose", action="store_true", help="log plugin activity")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("plugins", help="installed plugins, their versions, and broken ones")

    lister = commands.add_parser("list", help="what the plugins provide")
    lister.add_argument("what", metavar="WHAT", help=" | ".join(LISTABLE))

    run = commands.add_parser(
        "run",
        help="run a suite or one cell",
        description="`benchbed run suite NAME` runs a suite (resuming an interrupted one); "
        "`benchbed run TASK --model M` runs one cell.",
    )
    run.add_argument("target", metavar="suite|TASK")
    run.add_argument("name", nargs="?", metavar="NAME", help="the suite's name or TOML file")
    run.add_argument("--model", help="the model (for a single task)")
    run.add_argument("--param", action="append", default=[], metavar="K=V", help="model parameter")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--device", default="auto", help="auto (GPU when there is one), cpu, cuda")
    run.add_argument("--rerun", action="store_true", help="run cells even if already stored")
    run.add_argument("--executor", default="serial", help="serial, process (a local pool) or dask")
    run.add_argument("--workers", type=int, help="worker processes (process, dask)")
    run.add_argument(
        "--threads",
        type=int,
        help="CPU threads per cell (default: every core, shared out among local workers)",
    )
    run.add_argument(
        "--scheduler", help="a Dask scheduler, tcp://HOST:8786 (default: a LocalCluster)"
    )
    run.add_argument("--db", help="results file (default: $BENCHBED_DB or ./benchbed.db)")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")

    tune = commands.add_parser(
        "tune",
        help="tune a model's parameters on a task's validation split (optuna)",
        description="Searches the space the model declares; the study and the best "
        'parameters are stored in the results file, where suites use them as "tuned".',
    )
    tune.add_argument("task", metavar="TASK")
    tune.add_argument("--model", required=True)
    tune.add_argument("--trials", type=int, default=20)
    tune.add_argument("--seed", type=int, default=0)
    tune.add_argument("--device", default="auto")
    tune.add_argument("--study", help="study name (default: TASK|MODEL)")
    tune.add_argument("--resume", action="store_true", help="continue an existing study")
    tune.add_argument("--threads", type=int, help="CPU threads (default: every core)")
    tune.add_argument("--db")

    results = commands.add_parser("results", help="print or export stored results")
    results.add_argument("--suite")
    results.add_argument("--task")
    results.add_argument("--format", choices=("table", "csv", "json"), default="table")
    results.add_argument("--output", help="write to this file instead of the terminal")
    results.add_argument("--failed", action="store_true", help="show failed cells with tracebacks")
    results.add_argument("--db")

    board = commands.add_parser("leaderboard", help="the static HTML leaderboard")
    board_commands = board.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = board_commands.add_parser("build", help="render the site from the results store")
    build.add_argument(
        "--db", action="append", help="results file(s); GPU results files merge in (repeatable)"
    )
    build.add_argument("--out", default="leaderboard/site", help="output folder")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="benchbed: %(message)s",
    )
    try:
        return COMMANDS[args.command](args)
    except BenchbedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _registry(args):
    from benchbed.plugins import load_registry

    return load_registry(strict=args.strict)


def cmd_plugins(args) -> int:
    from benchbed.plugins import load_registry

    logging.getLogger("benchbed.plugins").setLevel(logging.ERROR)  # shown below instead
    registry = load_registry()
    rows = []
    for info in registry.plugins.values():
        counts = {what: 0 for what in ("task", "model", "metric", "suite")}
        for (what, _), owner in registry.owners.items():
            if owner == info.name:
                counts[what] += 1
        provides = ", ".join(f"{n} {w}s" for w, n in counts.items() if n) or "-"
        state = "BROKEN" if info.broken else "ok"
        rows.append((info.name, info.distribution, info.version, state, provides))
    _print_table(("plugin", "distribution", "version", "status", "provides"), rows)
    problems = registry.problems()
    for problem in problems:
        print(f"  ! {problem}")
    if problems and args.strict:
        return 2
    return 0


def cmd_list(args) -> int:
    if args.what not in LISTABLE:
        raise unknown("listing", args.what, LISTABLE)
    registry = _registry(args)
    if args.what == "tasks":
        rows = [
            (t.name, t.kind.name, t.primary_metric, _first_line(t.description))
            for t in registry.tasks.values()
        ]
        header = ("task", "kind", "main metric", "description")
    elif args.what == "models":
        rows = [
            (
                m.name,
                ", ".join(m.kinds),
                registry.owners[("model", m.name)],
                _first_line(m.description),
            )
            for m in registry.models.values()
        ]
        header = ("model", "kinds", "plugin", "description")
    elif args.what == "metrics":
        rows = [
            (m.name, f"{m.direction} is better", m.description) for m in registry.metrics.values()
        ]
        header = ("metric", "direction", "description")
    elif args.what == "kinds":
        rows = [(k.name, ", ".join(k.methods), k.description) for k in registry.kinds.values()]
        header = ("kind", "model must have", "description")
    else:
        rows = [
            (name, registry.owners[("suite", name)], str(path))
            for name, path in registry.suites.items()
        ]
        header = ("suite", "plugin", "file")
    _print_table(header, sorted(rows))
    return 0


def cmd_run(args) -> int:
    from benchbed.cells import make_cell, parse_param
    from benchbed.hardware import resolve_device
    from benchbed.runner import run_cells
    from benchbed.store import Store
    from benchbed.suites import find_suite, load_suite

    registry = _registry(args)
    device = resolve_device(args.device)
    # Opened on first use, so a suite or name that is refused leaves no results file behind.
    store = functools.cache(lambda: Store(args.db))
    if args.target == "suite":
        if not args.name:
            raise BenchbedError(
                "which suite? `benchbed run suite NAME` (see `benchbed list suites`)"
            )
        suite = load_suite(
            registry,
            find_suite(registry, args.name),
            device,
            tuned=lambda study: store().tuned(study),
        )
        cells, suite_name = suite.cells, suite.name
    else:
        if args.name:
            raise BenchbedError(
                f"unexpected '{args.name}'; did you mean `benchbed run suite {args.name}`?"
            )
        if not args.model:
            raise BenchbedError(f"which model? `benchbed run {args.target} --model M`")
        params = dict(parse_param(p) for p in args.param)
        cells = [make_cell(registry, args.target, args.model, params, args.seed, device)]
        suite_name = None
    print(f"{len(cells)} cells on {device}; results in {store().path}", file=sys.stderr)
    summary = run_cells(
        registry,
        store(),
        cells,
        suite=suite_name,
        rerun=args.rerun,
        executor=args.executor,
        workers=args.workers,
        scheduler=args.scheduler,
        command=" ".join(sys.argv),
        progress=not args.no_progress,
        threads=args.threads,
    )
    _report(summary, store(), cells if suite_name is None else None)
    return summary.exit_status


def _report(summary, store, single_cells) -> None:
    parts = [
        f"{summary.ok} ran",
        f"{len(summary.failed)} failed",
        f"{summary.skipped} already stored",
    ]
    print(f"done: {', '.join(parts)} (of {summary.total})", file=sys.stderr)
    for cell, error in summary.failed:
        print(f"  FAILED {cell.label}: {error.splitlines()[0] if error else ''}", file=sys.stderr)
    if summary.failed:
        print("  tracebacks: benchbed results --failed", file=sys.stderr)
    if summary.interrupted:
        print(
            "interrupted: finished cells are stored; run the same command to resume",
            file=sys.stderr,
        )
    if single_cells:
        rows = store.query(
            "SELECT metric, value, n FROM metric_values WHERE cell_key = ? ORDER BY metric",
            [single_cells[0].key],
        )
        _print_table(
            ("metric", "value", "n"), [(r["metric"], _fmt(r["value"]), r["n"] or "") for r in rows]
        )


def cmd_tune(args) -> int:
    from benchbed.hardware import limit_threads, resolve_device
    from benchbed.store import Store
    from benchbed.tuning import tune

    if args.threads:
        limit_threads(args.threads)
    registry = _registry(args)
    device = resolve_device(args.device)
    best = tune(
        registry,
        Store(args.db),
        args.task,
        args.model,
        args.trials,
        device=device,
        seed=args.seed,
        study=args.study,
        resume=args.resume,
    )
    print(
        f"study {best['study']}: best {best['metric']} {best['best_value']:.4f} "
        f"after {best['trials']} trials"
    )
    _print_table(("parameter", "value"), sorted(best["params"].items()))
    return 0


def cmd_results(args) -> int:
    from benchbed.store import Store, default_path

    store = Store.reader(args.db or default_path())
    if args.failed:
        for row in store.query(
            "SELECT task, model, params, seed, traceback FROM cells WHERE status = 'failed'"
        ):
            print(
                f"== {row['task']} | {row['model']} {row['params']} | seed {row['seed']}\n{row['traceback']}"
            )
        return 0
    rows = store.results(suite=args.suite, task=args.task)
    out = open(args.output, "w", newline="") if args.output else sys.stdout
    try:
        if args.format == "json":
            import json

            json.dump(rows, out, indent=1)
            out.write("\n")
        elif args.format == "csv":
            import csv

            writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["task"])
            writer.writeheader()
            writer.writerows(rows)
        else:
            header = ("task", "model", "params", "seed", "device", "status", "metric", "value")
            _print_table(header, [tuple(_fmt(r[h]) for h in header) for r in rows], out)
    finally:
        if args.output:
            out.close()
    return 0


def cmd_leaderboard(args) -> int:
    from benchbed.leaderboard import build_site

    index = build_site(args.db, args.out)
    print(f"leaderboard: {index}")
    return 0


COMMANDS = {
    "plugins": cmd_plugins,
    "list": cmd_list,
    "run": cmd_run,
    "results": cmd_results,
    "tune": cmd_tune,
    "leaderboard": cmd_leaderboard,
}


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def _print_table(header, rows, out=None) -> None:
    out = out or sys.stdout
    rows = [tuple(str(c) for c in row) for row in rows]
    widths = [
        max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h))
        for i, h in enumerate(header)
    ]
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths)).rstrip(), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=out)


if __name__ == "__main__":
    sys.exit(main())
