"""benchbed tasks that run `mteb.evaluate` on the local tasks and store mteb's own scores.

Per-unit samples are kept where mteb has them, so the leaderboard can draw intervals and
pair designs: accuracy per classification experiment, V-measure per clustering bootstrap,
nDCG@10 per retrieval query (pytrec_eval on mteb's saved predictions, mteb's own scorer).
An STS score is a rank correlation over all pairs, not a mean of per-pair values: it is
stored alone.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from benchbed import Kind, Result, Score, Task

EMBEDDER = Kind(
    "text-embedder",
    "mteb_model(ctx) -> an mteb EncoderProtocol (or a SentenceTransformer); encode(texts) -> (n, d)",
    methods=("mteb_model",),
)

# mteb main score -> the benchbed metric that stores it, and the unit of its samples
METRICS = {
    "cosine_spearman": ("cosine_spearman", None),
    "accuracy": ("mteb_accuracy", "experiment"),
    "v_measure": ("v_measure", "bootstrap"),
    "ndcg_at_10": ("ndcg_at_10", "query"),
}
SECONDARY = {
    "STS": ("cosine_pearson",),
    "Classification": ("f1",),
    "Clustering": (),
    "Retrieval": ("mrr_at_10", "recall_at_10"),
}
SECONDARY_NAMES = {
    "cosine_pearson": "cosine_pearson",
    "f1": "mteb_f1",
    "mrr_at_10": "mrr_at_10",
    "recall_at_10": "recall_at_10",
}


def mteb_cache_dir() -> Path:
    """mteb writes ~/.cache/mteb on import unless told otherwise: keep it in benchbed's cache."""
    from benchbed import cache_root

    path = cache_root() / "pooling" / "mteb"
    os.environ.setdefault("MTEB_CACHE", str(path))
    return path


class MtebTask(Task):
    def __init__(self, name: str, mteb_name: str):
        from benchbed_pooling.mteb_tasks import SPECS

        kind, main_score, description, _ = SPECS[mteb_name]
        self.name, self.mteb_name, self.kind_name = name, mteb_name, kind
        self.kind = EMBEDDER
        self.description = f"{description} (mteb {kind}, local)"
        self.main_metric = METRICS[main_score][0]
        self.metrics = (self.main_metric, *(SECONDARY_NAMES[m] for m in SECONDARY[kind]))

    def evaluate(self, model, ctx) -> Result:
        mteb_cache_dir()
        import mteb

        from benchbed_pooling.mteb_tasks import task_class

        task = task_class(self.mteb_name)(seed=ctx.seed)
        encoder = model.mteb_model(ctx)
        with tempfile.TemporaryDirectory() as predictions:
            with ctx.timer.phase("encode", batch_size=getattr(model, "batch_size", None)) as phase:
                if hasattr(encoder, "phase"):
                    encoder.phase = phase
                result = mteb.evaluate(
                    encoder, task, cache=None, overwrite_strategy="always", show_progress_bar=False,
                    prediction_folder=predictions if self.kind_name == "Retrieval" else None,
                )  # fmt: skip
            scores = result.task_results[0].scores["test"][0]
            samples = self._samples(scores, Path(predictions), task)
        main = task.metadata.main_score
        metrics = {self.main_metric: main_score(float(scores[main]), samples, METRICS[main][1])}
        for name in SECONDARY[self.kind_name]:
            metrics[SECONDARY_NAMES[name]] = float(scores[name])
        artifacts = {
            "mteb_scores": {k: v for k, v in scores.items() if isinstance(v, (int, float))}
        }
        if hasattr(model, "describe"):
            artifacts["model"] = model.describe()
        return Result(metrics, artifacts)

    def _samples(self, scores, predictions: Path, task):
        if self.kind_name == "Classification":
            return [float(e["accuracy"]) for e in scores["scores_per_experiment"]]
        if self.kind_name == "Clustering":
            per_level = scores["v_measures"]  # {"Level 0": [...]} for single-level labels
            if isinstance(per_level, dict):
                per_level = next(iter(per_level.values())) if len(per_level) == 1 else None
            return [float(v) for v in per_level] if per_level else None
        if self.kind_name == "Retrieval":
            return per_query_ndcg10(predictions, task)
        return None


def main_score(value: float, samples, unit) -> Score:
    """mteb's score with its per-unit samples when they average to it.

    mteb rounds retrieval scores to 5 decimals; the stored value is then the exact mean of
    the samples (within 5e-6 of mteb's), which the leaderboard needs to bootstrap them.
    """
    if samples and abs(sum(samples) / len(samples) - value) < 1e-4:
        return Score.mean_of(samples, unit=unit)
    return Score(value)


def per_query_ndcg10(folder: Path, task) -> list[float] | None:
    """nDCG@10 per query, scored by pytrec_eval (what mteb averages) on mteb's predictions."""
    import pytrec_eval

    from benchbed_pooling import data
    from benchbed_pooling.mteb_tasks import SPECS

    files = list(folder.glob("*.json"))
    if not files:
        return None
    saved = json.loads(files[0].read_text())
    run = saved["default"]["test"]
    qrels = data.gloss_to_word(*SPECS[task.metadata.name][3]).relevant
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"})
    per_query = evaluator.evaluate(
        {q: {d: float(s) for d, s in docs.items()} for q, docs in run.items()}
    )
    return [per_query[q]["ndcg_cut_10"] if q in per_query else 0.0 for q in sorted(qrels)]


TASKS = {
    "pooling/sts/lee": "LeeSTS",
    "pooling/sts/simlex999": "SimLex999STS",
    "pooling/sts/wordsim353": "WordSim353STS",
    "pooling/classification/wordnet-lexname": "WordNetLexnameClassification",
    "pooling/classification/fortunes": "FortunesClassification",
    "pooling/clustering/wordnet-lexname": "WordNetLexnameClustering",
    "pooling/clustering/fortunes": "FortunesClustering",
    "pooling/retrieval/wordnet-gloss2word": "WordNetGlossToWordRetrieval",
}


def all_tasks() -> list[Task]:
    return [MtebTask(name, mteb_name) for name, mteb_name in TASKS.items()] + [SpeedTask()]


class MtebHubTask(Task):
    """An mteb task from the Hugging Face hub, by its mteb name (needs a machine online)."""

    kind = EMBEDDER
    metrics = ("mteb_main_score",)

    def __init__(self, mteb_name: str):
        self.mteb_name = mteb_name
        self.name = f"pooling/mteb/{mteb_name}"
        self.description = f"mteb's hub task {mteb_name} (downloads its data: online only)"

    def evaluate(self, model, ctx) -> Result:
        mteb_cache_dir()
        import mteb

        task = mteb.get_task(self.mteb_name)
        task.seed = ctx.seed
        encoder = model.mteb_model(ctx)
        with ctx.timer.phase("encode", batch_size=getattr(model, "batch_size", None)) as phase:
            if hasattr(encoder, "phase"):
                encoder.phase = phase
            result = mteb.evaluate(
                encoder, task, cache=None, overwrite_strategy="always", show_progress_bar=False
            )
        return Result({"mteb_main_score": float(result.task_results[0].get_score())},
                      {"mteb_scores": result.task_results[0].scores})  # fmt: skip


def hub_tasks(names: str) -> list[Task]:
    """Tasks for the mteb names listed (comma-separated) in BENCHBED_POOLING_MTEB_TASKS."""
    return [MtebHubTask(n.strip()) for n in names.split(",") if n.strip()]


class SpeedTask(Task):
    """Encoding cost on 1,000 real texts (500 WordNet glosses, 500 fortunes).

    - the pooling wrapper against sentence-transformers' `encode`, same backbone and batch
      size, interleaved twice in one run (the faster of each pair counts);
    - every parameter-free pooling from one backbone pass per batch, against one full pass
      per pooling.
    """

    name = "pooling/speed/encode"
    kind = EMBEDDER
    description = (
        "encoding throughput: wrapper vs sentence-transformers, one pass vs one pass per pooling"
    )
    metrics = ("speedup_vs_st", "one_pass_saving")

    def evaluate(self, model, ctx) -> Result:
        import time

        from benchbed import BenchbedError
        from benchbed_pooling import data
        from benchbed_pooling.pooling import POOLINGS, pool_all

        if not hasattr(model, "passes") or model.trainable:
            raise BenchbedError(
                "the speed task measures parameter-free pooling-* models (pool-mean, pool-cls, ...)"
            )
        texts = [t for _, t in data.labelled_texts("wordnet", 25)][::2][:500]
        texts += [t for _, t in data.labelled_texts("fortunes", 26)][::2][:500]
        model.setup(ctx)
        model.encode(texts[:64])  # warm-up: first calls allocate
        bs = model.batch_size
        metrics, artifacts = {}, {}
        st = None
        if not model.backbone.is_decoder:
            from benchbed_pooling.reference import SentenceTransformerReference

            st = SentenceTransformerReference(model.backbone_name, bs)
            st.mteb_model(ctx)
            st.encode(texts[:64])
            seconds = {"wrapper": [], "st": []}
            for round_ in range(2):
                with ctx.timer.phase(f"encode-st-{round_}", items=len(texts), batch_size=bs):
                    start = time.perf_counter()
                    st.model.encode(texts, batch_size=bs)
                    seconds["st"].append(time.perf_counter() - start)
                with ctx.timer.phase(
                    f"encode-wrapper-{round_}", items=len(texts), batch_size=bs
                ) as phase:
                    start = time.perf_counter()
                    model.encode(texts, phase)
                    seconds["wrapper"].append(time.perf_counter() - start)
            metrics["speedup_vs_st"] = min(seconds["st"]) / min(seconds["wrapper"])
            artifacts["seconds"] = seconds
        with ctx.timer.phase("all-poolings-one-pass", items=len(texts), batch_size=bs) as phase:
            start = time.perf_counter()
            for _idx, states, mask in model.passes(texts, phase):
                pool_all(states[model.layer], mask)
            one = time.perf_counter() - start
        with ctx.timer.phase(
            "one-pass-per-pooling", items=len(texts) * len(POOLINGS), batch_size=bs
        ) as phase:
            start = time.perf_counter()
            for name in POOLINGS:
                for _idx, states, mask in model.passes(texts, phase):
                    pool_all(states[model.layer], mask, (name,))
            each = time.perf_counter() - start
        metrics["one_pass_saving"] = 1 - one / each
        artifacts["one_pass_seconds"], artifacts["pass_per_pooling_seconds"] = one, each
        artifacts["texts"] = len(texts)
        return Result(metrics, artifacts)
