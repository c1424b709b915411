"""Markdown tables of stored continual results: Hsu et al. 2018's Table 2 beside ours, or
one task's methods over every stored seed.

    benchbed results --db results.db --format json | python -m benchbed_continual.table
    python -m benchbed_continual.table --task continual/permuted-mnist/domain-il a.json b.json

Reads the JSON of `benchbed results` (so it needs nothing but the public CLI), from stdin or
from files (one per store); each of our numbers is a mean over the seeds stored.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict

SCENARIOS = ("task-il", "domain-il", "class-il")

# Hsu, Liu, Ramasamy & Kira (2018), "Re-evaluating continual learning scenarios", Table 2:
# mean of 10 runs. Their "naive rehearsal" is our `replay`; GEM has no counterpart here, so
# A-GEM sits in its row, marked.
HSU_TABLE2 = {
    "naive": ("Adam (naive)", (93.46, 55.16, 19.71)),
    "ewc": ("EWC", (97.70, 58.85, 19.80)),
    "online-ewc": ("online EWC", (98.04, 57.33, 19.77)),
    "si": ("SI", (98.56, 64.76, 19.67)),
    "lwf": ("LwF", (99.60, 71.02, 24.17)),
    "replay": ("naive rehearsal (ours: reservoir replay)", (99.40, 95.16, 90.78)),
    "agem": ("GEM (ours: A-GEM)", (98.42, 96.16, 92.20)),
    "joint": ("offline (joint)", (99.52, 98.59, 97.53)),
}
EXTRA = {"icarl": "iCaRL", "derpp": "DER++"}


def collect(rows, prefix: str = "continual/split-mnist/", device: str | None = None) -> dict:
    """(model, scenario) -> average accuracies (one per stored seed)."""
    out = defaultdict(list)
    for row in rows:
        if (
            row["metric"] != "average_accuracy"
            or row["status"] != "ok"
            or not row["task"].startswith(prefix)
        ):
            continue
        if device and row["device"] != device:
            continue
        scenario = row["task"][len(prefix) :]
        out[(row["model"], scenario)].append(100 * row["value"])
    return out


def mean_sd(values, digits: int = 2) -> str:
    """'mean ± sample s.d.', or the mean alone for one value."""
    sd = f" ± {statistics.stdev(values):.{digits}f}" if len(values) > 1 else ""
    return f"{statistics.fmean(values):.{digits}f}{sd}"


def markdown(results: dict) -> str:
    def ours(model, scenario):
        values = results.get((model, scenario))
        return f"{mean_sd(values)} ({len(values)})" if values else "-"

    head = "| method | " + " | ".join(f"{s} Hsu | {s} ours" for s in SCENARIOS) + " |"
    lines = [head, "|---" * (1 + 2 * len(SCENARIOS)) + "|"]
    for model, (label, published) in HSU_TABLE2.items():
        cells = [f"{p:.2f} | {ours(model, s)}" for p, s in zip(published, SCENARIOS)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for model, label in EXTRA.items():
        cells = [f"- | {ours(model, s)}" for s in SCENARIOS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


SUMMARY_METRICS = ("average_accuracy", "forgetting", "intransigence")


def summary(rows, task: str) -> str:
    """One row per method and parameter set stored for `task`, best average accuracy first:
    mean ± s.d. over the seeds (all devices pooled), and which seeds ran on which device.
    A method stored with several parameter sets shows the parameters that tell them apart."""
    runs = defaultdict(dict)  # (model, params) -> (seed, device) -> metric -> value
    for row in rows:
        if row["task"] == task and row["status"] == "ok" and row["metric"] in SUMMARY_METRICS:
            runs[(row["model"], row["params"])].setdefault((row["seed"], row["device"]), {})[
                row["metric"]
            ] = row["value"]
    if not runs:
        raise SystemExit(f"no stored results for {task}")

    def variant(model, params):
        siblings = [json.loads(p) for m, p in runs if m == model]
        if len(siblings) == 1:
            return ""
        mine = json.loads(params)
        differing = sorted(k for k in mine if len({str(s.get(k)) for s in siblings}) > 1)
        return ", ".join(f"{k}={'default' if mine[k] is None else mine[k]}" for k in differing)

    def seeds(cells):
        by_device = defaultdict(list)
        for seed, device in sorted(cells):
            by_device[device].append(str(seed))
        return "; ".join(f"{', '.join(s)} ({device})" for device, s in sorted(by_device.items()))

    def column(cells, metric):
        return [m[metric] for m in cells.values() if metric in m]

    lines = [
        "| method | parameters | seeds (device) | average accuracy, % | forgetting | intransigence |",
        "|---|---|---|---|---|---|",
    ]
    order = sorted(runs, key=lambda k: -statistics.fmean(column(runs[k], "average_accuracy")))
    for model, params in order:
        cells = runs[(model, params)]
        numbers = [
            mean_sd([100 * v for v in column(cells, "average_accuracy")]),
            mean_sd(column(cells, "forgetting"), 3),
            mean_sd(column(cells, "intransigence"), 3),
        ]
        lines.append(
            f"| {model} | {variant(model, params) or '-'} | {seeds(cells)} | "
            + " | ".join(numbers)
            + " |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "json", nargs="*", help="outputs of `benchbed results --format json` (default: stdin)"
    )
    parser.add_argument("--device", help="Hsu table: only cells run on this device (cpu, cuda)")
    parser.add_argument("--task", help="summarise this task's methods instead of the Hsu table")
    args = parser.parse_args(argv)
    if args.json:
        rows = [row for path in args.json for row in json.load(open(path))]
    else:
        rows = json.load(sys.stdin)
    print(summary(rows, args.task) if args.task else markdown(collect(rows, device=args.device)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
