"""Which designs are significantly better, as Tang & Yang (2024) test it: a Wilcoxon
signed-rank test on paired per-task main scores between two designs, over all tasks and
within each task category. Per-task intervals and per-item paired tests come from the
leaderboard (bootstrap over the stored samples, benchbed.stats).

    benchbed results --db results.db --format json --output results.json
    python -m benchbed_pooling.significance results.json [--seed 0]

With k tasks the smallest two-sided Wilcoxon p-value is 2 / 2**k: a category of three tasks
can never reach p < 0.05, and the report says so instead of calling a difference noise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from itertools import combinations

from benchbed.stats import wilcoxon

MAIN = {
    "cosine_spearman": "sts",
    "mteb_accuracy": "classification",
    "v_measure": "clustering",
    "ndcg_at_10": "retrieval",
}


def design_label(row: dict) -> str:
    params = json.loads(row["params"]) if isinstance(row["params"], str) else row["params"]
    label = row["model"]
    extra = [
        f"{k}={params[k]}"
        for k in ("backbone", "attention", "layer")
        if k in params and params[k] not in ("minilm", "default", -1)
    ]
    return f"{label}({','.join(extra)})" if extra else label


def main_scores(rows: list[dict], seed: int = 0) -> dict[str, dict[str, float]]:
    """{design: {task: main score}} from `benchbed results --format json` rows."""
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        if row.get("status") == "ok" and row["metric"] in MAIN and row["seed"] == seed:
            out[design_label(row)][row["task"]] = float(row["value"])
    return dict(out)


def compare(a: dict[str, float], b: dict[str, float], tasks: list[str] | None = None) -> dict:
    shared = sorted(set(a) & set(b) if tasks is None else set(a) & set(b) & set(tasks))
    x, y = [a[t] for t in shared], [b[t] for t in shared]
    diffs = [u - v for u, v in zip(x, y)]
    return {
        "tasks": len(shared),
        "mean_diff": sum(diffs) / len(diffs) if diffs else float("nan"),
        "wins": sum(d > 0 for d in diffs),
        "losses": sum(d < 0 for d in diffs),
        "p": wilcoxon(x, y) if len(shared) >= 2 else float("nan"),
        "min_p": 2 / 2 ** len(shared) if shared else float("nan"),
    }


def report(scores: dict[str, dict[str, float]], alpha: float = 0.05) -> str:
    lines = []
    categories = {"all": None}
    for design in scores.values():
        for task in design:
            categories.setdefault(task.split("/")[1], [])
    for name in categories:
        if name != "all":
            categories[name] = sorted(
                {t for d in scores.values() for t in d if t.split("/")[1] == name}
            )
    for name, tasks in categories.items():
        lines.append(f"== {name} ==")
        lines.append(
            f"{'design A':<34} {'design B':<34} {'tasks':>5} {'A-B':>8} {'W/L':>6} {'p':>7}  verdict"
        )
        for a, b in combinations(sorted(scores), 2):
            c = compare(scores[a], scores[b], tasks)
            if c["tasks"] < 2:
                continue
            if c["min_p"] >= alpha:
                verdict = f"too few tasks (min p {c['min_p']:.3g})"
            elif c["p"] < alpha:
                verdict = f"{'A' if c['mean_diff'] > 0 else 'B'} better"
            else:
                verdict = "not significant"
            lines.append(
                f"{a:<34} {b:<34} {c['tasks']:>5} {c['mean_diff']:>+8.4f} {c['wins']:>2}/{c['losses']:<3} {c['p']:>7.4f}  {verdict}"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="the JSON of `benchbed results --format json`")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--alpha", type=float, default=0.05)
    args = parser.parse_args(argv)
    with open(args.results) as f:
        rows = json.load(f)
    scores = main_scores(rows, args.seed)
    if len(scores) < 2:
        print("need main scores of at least two designs", file=sys.stderr)
        return 2
    print(report(scores, args.alpha))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
