"""One task per (dataset, cascade pair); its models are deferral rules.

A cell loads (or, the first time, generates and times) both models' outputs on the task's
questions, splits the questions with the cell's seed into a training half for post-hoc rules
and a test half, fits the rule, scores the test half and reports the deferral curve, AUC-DF,
the gain over random deferral and the cost curve from the measured latencies.
"""

from __future__ import annotations

from benchbed import BenchbedError, Kind, Result, Score, Task

DEFERRAL_RULE = Kind(
    "deferral-rule",
    "fit(train, rng) on a CascadeData training split, then score(test) -> one deferral score "
    "per question (higher = defer to the large model first)",
    methods=("fit", "score"),
)
METRICS = (
    "auc_df",
    "rel_improvement",
    "quality_small",
    "quality_large",
    "quality_oracle",
    "deferral_to_match_large",
    "latency_to_match_large_ms",
)
TRAIN_FRACTION = 0.5
BATCH_SIZE = 8
MAX_NEW_TOKENS = 24
PAIRS = {
    "smol135m-qwen0.5b": ("smollm2-135m", "qwen2.5-coder-0.5b"),
    "qwen0.5b-qwen1.5b": ("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"),
}
SIZES = {"quiz": 80, "fanoutqa": 100, "arithmetic": 100, "word-problems": 120}


class CascadeTask(Task):
    kind = DEFERRAL_RULE
    metrics = METRICS
    main_metric = "auc_df"

    def __init__(self, dataset: str, pair: str, n: int, variant: str = ""):
        self.dataset, self.pair, self.n = dataset, pair, n
        self.small, self.large = PAIRS[pair]
        self.name = f"cascades/{dataset}{variant}/{pair}"
        self.description = (
            f"{self.small} -> {self.large} on the first {n} {dataset} questions (fixed order); "
            f"rules trained on {TRAIN_FRACTION:.0%} drawn by the seed, curves on the rest"
        )

    def load(self, ctx):
        """(questions, cascade data on all of them, generation info per role)."""
        import numpy as np

        from benchbed_cascades import datasets
        from benchbed_cascades.generate import generations
        from benchbed_cascades.rules import CascadeData

        ds = datasets.load(self.dataset)
        if len(ds.questions) < self.n:
            raise BenchbedError(
                f"{self.name}: {ds.name} has {len(ds.questions)} questions, fewer than {self.n}"
            )
        questions = ds.questions[: self.n]
        gens, info = {}, {}
        for role, model in (("small", self.small), ("large", self.large)):
            gens[role], info[role] = generations(
                model, ds, questions, ctx, role, BATCH_SIZE, MAX_NEW_TOKENS
            )
        q = {
            role: np.array(
                [datasets.quality(x, g.output) for x, g in zip(questions, gens[role], strict=True)]
            )
            for role in gens
        }
        data = CascadeData(
            [g.logprobs for g in gens["small"]],
            np.stack([g.emb_final for g in gens["small"]]),
            np.stack([g.emb_mid for g in gens["large"]]),
            q["small"],
            q["large"],
        )
        return questions, gens, data, info

    def evaluate(self, model, ctx) -> Result:
        import numpy as np

        from benchbed_cascades import curves

        questions, gens, data, info = self.load(ctx)
        order = ctx.rng(0).permutation(len(questions))
        n_train = int(round(TRAIN_FRACTION * len(questions)))
        train, test = data.subset(order[:n_train]), data.subset(order[n_train:])
        with ctx.timer.phase("analyse", items=len(test)) as phase:
            with phase.step(items=len(test)):
                model.fit(train, ctx.rng(1))
                scores = np.asarray(model.score(test), dtype=float)
        if scores.shape != (len(test),) or not np.isfinite(scores).all():
            raise BenchbedError(
                f"the rule returned {scores.shape} scores for {len(test)} questions, or non-finite ones"
            )

        rates, quality = curves.deferral_curve(scores, test.q_small, test.q_large)
        terms = curves.auc_contributions(scores, test.q_small, test.q_large)
        area = float(terms.mean())
        _, oracle = curves.deferral_curve(
            curves.oracle_scores(test.q_small, test.q_large), test.q_small, test.q_large
        )
        random_line = test.q_small.mean() + rates * (test.q_large.mean() - test.q_small.mean())
        small_ms = info["small"]["latency_ms_per_question"]
        large_ms = info["large"]["latency_ms_per_question"]
        extra_ms = (
            info["large"]["mid_prefill_ms_per_question"]
            if getattr(model, "extra_cost", "") == "large-mid"
            else 0.0
        )
        latency, _ = curves.cost_curve(rates, quality, small_ms, large_ms, extra_ms)
        match = curves.match_large(rates, quality, test.q_large.mean())
        test_ids = [questions[i].id for i in order[n_train:]]

        metrics = {
            "auc_df": Score(area, [float(t) for t in terms], "question"),
            "quality_small": Score.mean_of(test.q_small, "question"),
            "quality_large": Score.mean_of(test.q_large, "question"),
            "quality_oracle": float(oracle.max()),
            "deferral_to_match_large": match,
            "latency_to_match_large_ms": small_ms + extra_ms + match * large_ms,
        }
        relative = curves.relative_improvement(area, test.q_small, test.q_large)
        if relative == relative:  # undefined (NaN) when neither model gets a test question right
            metrics["rel_improvement"] = relative
        artifacts = {
            "deferral_curve": {
                "rate": _r(rates),
                "quality": _r(quality),
                "random": _r(random_line),
                "oracle": _r(oracle),
                "q_small": float(test.q_small.mean()),
                "q_large": float(test.q_large.mean()),
                "n_test": len(test),
                "small": self.small,
                "large": self.large,
            },
            "cost_curve": {
                "latency_ms": _r(latency),
                "quality": _r(quality),
                "small_ms": small_ms,
                "large_ms": large_ms,
                "extra_ms": extra_ms,
                "note": "mean latency per question, measured at generation time on ctx.device",
            },
            "generation": {role: info[role] for role in info},
            "test_outputs": [
                {
                    "id": qid,
                    "small": gens["small"][i].output,
                    "large": gens["large"][i].output,
                    "q_small": float(data.q_small[i]),
                    "q_large": float(data.q_large[i]),
                    "score": float(s),
                }
                for qid, i, s in zip(test_ids, order[n_train:], scores, strict=True)
            ][:50],
        }
        return Result(metrics, artifacts)


def _r(values) -> list[float]:
    return [round(float(v), 6) for v in values]


def all_tasks() -> list[Task]:
    tasks = [CascadeTask(d, pair, n) for d, n in SIZES.items() for pair in PAIRS]
    tasks += [CascadeTask("quiz", pair, 40, variant="-40") for pair in PAIRS]
    return tasks
