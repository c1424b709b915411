"""Every rule on one cascade task over several splits, beside the paper's MNLI numbers.

    python -m benchbed_cascades.report cascades/quiz/smol135m-qwen0.5b --seeds 0 1 2 3 4 \
        --svg deferral.svg

Reads the cached generations (generating them the first time, as a cell would), evaluates each
rule on the seeds' train/test splits, prints a Markdown table and writes the seed-0 deferral
curves of all rules on one SVG chart. It uses the same Task.evaluate as `benchbed run`.
"""

from __future__ import annotations

import argparse
from html import escape

import numpy as np

# Gupta et al. (ICLR 2024), MNLI, FLAN-T5 Base -> Large, AUC-DF
PAPER_MNLI = {
    "chow-sum": 0.627,
    "chow-average": 0.642,
    "post-hoc-quantile": 0.711,
    "post-hoc-embed-1+2": 0.722,
}


def rules():
    from benchbed_cascades.rules import ChowAverage, ChowQuantile, ChowSum, Oracle, PostHoc, Random

    out = {"chow-sum": ChowSum, "chow-average": ChowAverage}
    for alpha in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        out[f"chow-quantile-{alpha:g}"] = lambda a=alpha: ChowQuantile(a)
    out["post-hoc-quantile"] = lambda: PostHoc("quantile")
    out["post-hoc-embed-1"] = lambda: PostHoc("embed-1")
    out["post-hoc-embed-1+2"] = lambda: PostHoc("embed-1+2")
    out["random-deferral"] = Random
    out["oracle-deferral"] = Oracle
    return out


def run(task_name: str, seeds: list[int]):
    from benchbed import BenchbedError, Context
    from benchbed_cascades.tasks import all_tasks

    tasks = {t.name: t for t in all_tasks()}
    if task_name not in tasks:
        raise BenchbedError(
            f"unknown cascades task {task_name!r}; one of: {', '.join(sorted(tasks))}"
        )
    task = tasks[task_name]
    rows, curves, extra = {}, {}, {}
    for name, build in rules().items():
        values = []
        for seed in seeds:
            ctx = Context(seed=seed, plugin="cascades", show_progress=False)
            result = task.evaluate(build(), ctx)
            values.append({k: v.value for k, v in result.metrics.items()})
            if seed == seeds[0]:
                curves[name] = result.artifacts["deferral_curve"]
                extra = result.artifacts
        rows[name] = values
    return task, rows, curves, extra


def table(rows: dict, seeds: list[int]) -> str:
    lines = [
        f"| rule | AUC-DF (mean ± sd over {len(seeds)} splits) | rel. improvement over random | "
        "splits where AUC-DF > Chow-Sum's | deferral to match large | paper MNLI AUC-DF |",
        "|---|---|---|---|---|---|",
    ]
    base = np.array([v["auc_df"] for v in rows["chow-sum"]])
    for name, values in rows.items():
        auc = np.array([v["auc_df"] for v in values])
        # undefined on a split where AUC_random = 0 (neither model right on its test half)
        rel = np.array([v["rel_improvement"] for v in values if "rel_improvement" in v])
        rel_text = f"{100 * rel.mean():+.1f}%" if len(rel) else "undefined"
        if 0 < len(rel) < len(values):
            rel_text += f" ({len(rel)} splits)"
        match = np.array([v["deferral_to_match_large"] for v in values])
        paper = PAPER_MNLI.get(name)
        lines.append(
            f"| {name} | {auc.mean():.3f} ± {auc.std(ddof=1) if len(auc) > 1 else 0:.3f} | "
            f"{rel_text} | {int(np.sum(auc > base + 1e-12))}/{len(auc)} | "
            f"{match.mean():.2f} | {paper if paper else ''} |"
        )
    return "\n".join(lines)


COLOURS = ["#1f77b4", "#ff7f0e", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#2ca02c", "#000000", "#7f7f7f", "#2ca02c", "#aaaaaa"]  # fmt: skip


def overlay_svg(title: str, curves: dict, keep: tuple[str, ...]) -> str:
    w, h, pad, legend = 700, 380, 50, 170
    ys = [y for c in curves.values() for y in c["quality"] + c["oracle"]]
    y0, y1 = min(ys), max(ys)
    y1 = y1 if y1 > y0 else y0 + 1

    def px(x):
        return pad + x * (w - pad - legend)

    def py(y):
        return h - pad - (y - y0) / (y1 - y0) * (h - 2 * pad)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">',
        f'<text x="{w / 2}" y="18" text-anchor="middle" font-size="12">{escape(title)}</text>',
        f'<line x1="{pad}" y1="{h - pad}" x2="{px(1)}" y2="{h - pad}" stroke="black"/>',
        f'<line x1="{pad}" y1="{h - pad}" x2="{pad}" y2="{pad}" stroke="black"/>',
        f'<text x="{px(0.5)}" y="{h - 12}" text-anchor="middle">deferral rate</text>',
        f'<text x="14" y="{h / 2}" transform="rotate(-90 14 {h / 2})" text-anchor="middle">quality (exact match)</text>',
    ]
    for v in (0, 0.5, 1):
        out.append(f'<text x="{px(v):.1f}" y="{h - pad + 14}" text-anchor="middle">{v:g}</text>')
        yv = y0 + v * (y1 - y0)
        out.append(f'<text x="{pad - 4}" y="{py(yv) + 4:.1f}" text-anchor="end">{yv:.2f}</text>')
    shown = [n for n in keep if n in curves]
    for i, name in enumerate(shown):
        c = curves[name]
        key = "oracle" if name == "oracle-deferral" else "quality"
        if name == "random-deferral":
            key = "random"
        pts = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(c["rate"], c[key], strict=True))
        colour = COLOURS[i % len(COLOURS)]
        dash = ' stroke-dasharray="5 4"' if name in ("random-deferral", "oracle-deferral") else ""
        out.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.6"{dash} points="{pts}"/>'
        )
        out.append(
            f'<text x="{px(1) + 8}" y="{pad + 14 * i}" fill="{colour}">{escape(name)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--svg", help="write the first seed's deferral curves here")
    args = parser.parse_args(argv)
    task, rows, curves, artifacts = run(args.task, args.seeds)
    gen = artifacts["generation"]
    first = curves["chow-sum"]
    print(f"{task.name}: {task.description}")
    print(f"test questions per split: {first['n_test']}; q_small={first['q_small']:.3f} "
          f"q_large={first['q_large']:.3f} (seed {args.seeds[0]})")  # fmt: skip
    for role in ("small", "large"):
        g = gen[role]
        print(f"{role}: {g['model']}: {g['latency_ms_per_question']:.0f} ms/question, "
              f"{g['tokens_per_s']:.2f} output tokens/s, middle-layer prefill "
              f"{g['mid_prefill_ms_per_question']:.0f} ms/question, {g['mean_output_tokens']:.1f} tokens/answer")  # fmt: skip
    print()
    print(table(rows, args.seeds))
    if args.svg:
        keep = ("chow-sum", "chow-average", "chow-quantile-0", "chow-quantile-0.4", "post-hoc-quantile",
                "post-hoc-embed-1", "post-hoc-embed-1+2", "random-deferral", "oracle-deferral")  # fmt: skip
        with open(args.svg, "w") as f:
            f.write(
                overlay_svg(
                    f"{task.name} (seed {args.seeds[0]}, n={first['n_test']})", curves, keep
                )
            )


if __name__ == "__main__":
    main()
