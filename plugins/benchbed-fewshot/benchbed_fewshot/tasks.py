"""The episodic task: sample episodes from the cell's seed, run the method on batches of
episodes on the cell's device, and report accuracy with its per-episode samples."""

from __future__ import annotations

import numpy as np

from benchbed import BenchbedError, Kind, Result, Score, Task
from benchbed_fewshot.benchmarks import Benchmark
from benchbed_fewshot.episodes import EpisodeBatch, sample_episodes

EPISODE_CLASSIFIER = Kind(
    "episode-classifier",
    "predict(batch) -> (E, N*Q) labels for a batch of E N-way K-shot episodes (EpisodeBatch)",
    methods=("predict",),
)

HISTOGRAM_BINS = 20


class FewShotTask(Task):
    kind = EPISODE_CLASSIFIER
    metrics = ("accuracy",)

    def __init__(
        self,
        benchmark: Benchmark,
        n_way: int = 5,
        k_shot: int = 1,
        n_query: int = 15,
        episodes: int | None = None,
    ):
        self.benchmark = benchmark
        self.n_way, self.k_shot, self.n_query = n_way, k_shot, n_query
        self.episodes = episodes or benchmark.episodes
        self.name = f"fewshot/{benchmark.name}/{n_way}way-{k_shot}shot"
        self.splits = benchmark.splits
        self.description = (
            f"{benchmark.description}: {n_way}-way {k_shot}-shot, {n_query} queries per class, "
            f"{self.episodes:,} episodes"
        )

    def episode_chunk(self, device: str, dim: int) -> int:
        """Episodes per batch: bounded so that a (chunk, items, dim) float tensor stays small.

        On a CPU the batch is kept near cache size (16 MB): the gathers and transforms are
        memory-bound, and larger batches measured slower there; a GPU wants large batches.
        """
        items = self.n_way * (self.k_shot + self.n_query)
        budget = 2**28 if device.startswith("cuda") else 2**22  # floats per feature tensor
        return max(1, min(self.episodes, budget // (items * dim)))

    def evaluate(self, model, ctx) -> Result:
        import torch

        if ctx.split not in self.splits:
            raise BenchbedError(
                f"task '{self.name}' has no '{ctx.split}' split (it has {', '.join(self.splits)})"
            )
        with ctx.timer.phase("features"):
            data = self.benchmark.load(ctx)
        # methods that read raw texts or search a corpus say so; the feature path stays as is
        uses = set(getattr(model, "uses", ()))
        corpus = None
        if uses and data.texts is None:
            raise BenchbedError(
                f"this method needs {' and '.join(sorted(uses))}; task '{self.name}' has no texts"
            )
        if "corpus" in uses:
            with ctx.timer.phase("corpus"):
                corpus = self.benchmark.corpus(ctx, data)
        index = sample_episodes(
            data.labels,
            data.split.for_split(ctx.split),
            self.n_way,
            self.k_shot,
            self.n_query,
            self.episodes,
            ctx.rng(0),
        )
        features = torch.as_tensor(data.features, dtype=torch.float32, device=ctx.device)
        base_mean = torch.as_tensor(data.base_mean, dtype=torch.float32, device=ctx.device)
        chunk = getattr(model, "episodes_per_batch", 0) or self.episode_chunk(
            ctx.device, features.shape[1]
        )
        accuracy = np.empty(self.episodes)
        with ctx.timer.phase(
            "inference", items=self.episodes, batch_size=chunk, dtype="float32"
        ) as phase:
            for start in ctx.progress(range(0, self.episodes, chunk), desc=self.name):
                part = index.slice(start, start + chunk)
                batch = EpisodeBatch.gather(features, part, base_mean)
                if uses:
                    batch.attach_texts(part, data.texts, data.label_names, corpus)
                with phase.step(items=part.episodes), torch.no_grad():
                    predicted = model.predict(batch)
                accuracy[start : start + part.episodes] = self.check(predicted, part)
        ci = mean_ci95(accuracy)
        histogram = np.histogram(accuracy, bins=HISTOGRAM_BINS, range=(0.0, 1.0))[0]
        return Result(
            {"accuracy": Score.mean_of(accuracy, unit="episode")},
            artifacts={
                "protocol": {
                    "n_way": self.n_way,
                    "k_shot": self.k_shot,
                    "n_query": self.n_query,
                    "episodes": self.episodes,
                    "split": ctx.split,
                    **data.info,
                    **({"corpus": corpus.info} if corpus is not None else {}),
                },
                "accuracy_ci95": {
                    "mean": ci.mean,
                    "low": ci.low,
                    "high": ci.high,
                    "half_width": ci.half_width,
                },
                "episode_accuracy_histogram": {
                    "bins": HISTOGRAM_BINS,
                    "counts": histogram.tolist(),
                },
            },
        )

    def check(self, predicted, part) -> np.ndarray:
        """Per-episode accuracy, after checking that the method answered every query."""
        import torch

        predicted = torch.as_tensor(predicted)
        if tuple(predicted.shape) != part.query_labels.shape:
            raise BenchbedError(
                f"the method returned predictions of shape {tuple(predicted.shape)}; "
                f"expected {part.query_labels.shape} (episodes, queries)"
            )
        predicted = predicted.cpu().numpy()
        if predicted.min() < 0 or predicted.max() >= self.n_way:
            raise BenchbedError(f"the method predicted labels outside 0..{self.n_way - 1}")
        return (predicted == part.query_labels).mean(1)


def mean_ci95(accuracy):
    from benchbed.stats import mean_ci

    return mean_ci(accuracy, method="normal")
