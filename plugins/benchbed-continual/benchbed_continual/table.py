"""Hsu et al. 2018's Table 2 (Split-MNIST, accuracy %) beside our stored results.

    benchbed results --db results.db --format json | python -m benchbed_continual.table

Reads the JSON of `benchbed results` (so it needs nothing but the public CLI) and prints a
Markdown table: each of our cells is the mean over the seeds stored, with the seed count.
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


def markdown(results: dict) -> str:
    def ours(model, scenario):
        values = results.get((model, scenario))
        if not values:
            return "-"
        sd = f" ± {statistics.stdev(values):.2f}" if len(values) > 1 else ""
        return f"{statistics.fmean(values):.2f}{sd} ({len(values)})"

    head = "| method | " + " | ".join(f"{s} Hsu | {s} ours" for s in SCENARIOS) + " |"
    lines = [head, "|---" * (1 + 2 * len(SCENARIOS)) + "|"]
    for model, (label, published) in HSU_TABLE2.items():
        cells = [f"{p:.2f} | {ours(model, s)}" for p, s in zip(published, SCENARIOS)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    for model, label in EXTRA.items():
        cells = [f"- | {ours(model, s)}" for s in SCENARIOS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "json", nargs="?", help="output of `benchbed results --format json` (default: stdin)"
    )
    parser.add_argument("--device", help="only cells run on this device (cpu, cuda)")
    args = parser.parse_args(argv)
    rows = json.load(open(args.json) if args.json else sys.stdin)
    print(markdown(collect(rows, device=args.device)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
