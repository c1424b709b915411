"""Fill a cascade task's generation cache in chunks, small and large model in turn.

    python -m benchbed_cascades.pregenerate cascades/arithmetic/smol135m-qwen0.5b --chunk 16 --threads 1

A cell generates all of the small model's questions, then all of the large model's, so an
interrupted cell leaves no question answered by both. Here both models stay loaded and take
turns on chunks of `--chunk` questions in the task's order: whenever it stops, the first k
questions have both generations and a task on k questions (or a later cell) reads them from
the cache. Same prompts, batch size, token budget and cache files as a cell, so the cached
generations are the ones a cell would have made.
"""

from __future__ import annotations

import argparse
import time


def pregenerate(task_name: str, chunk: int, threads: int, device: str = "cpu") -> None:
    from benchbed import BenchbedError, Context
    from benchbed_cascades import datasets
    from benchbed_cascades.generate import GenerationCache, Generator, generate_missing
    from benchbed_cascades.tasks import BATCH_SIZE, MAX_NEW_TOKENS, all_tasks

    tasks = {t.name: t for t in all_tasks()}
    if task_name not in tasks:
        raise BenchbedError(
            f"unknown cascades task {task_name!r}; one of: {', '.join(sorted(tasks))}"
        )
    task = tasks[task_name]
    ctx = Context(seed=0, plugin="cascades", device=device, show_progress=False)
    ds = datasets.load(task.dataset)
    questions = ds.questions[: task.n]
    folder = ctx.cache_dir / "generations"
    models: dict = {}  # loaded on first need: a model whose answers are all cached is not loaded
    mids: dict[str, float | None] = {task.small: None, task.large: None}
    for start in range(0, len(questions), chunk):
        part = questions[start : start + chunk]
        for model in (task.small, task.large):
            cache = GenerationCache(folder, model, ds, MAX_NEW_TOKENS)
            missing = [q for q in part if cache.get(q.id) is None]
            if not missing:
                continue
            if model not in models:
                models[model] = Generator(model, device, threads)
                print(f"{model}: loaded in {models[model].load_seconds:.0f} s", flush=True)
            began = time.perf_counter()
            mids[model] = generate_missing(
                models[model], cache, ds, missing, BATCH_SIZE, MAX_NEW_TOKENS, mids[model],
                run_info={"by": "pregenerate"},
            )  # fmt: skip
            seconds = time.perf_counter() - began
            print(
                f"{model}: questions {start + 1}-{start + len(part)}: {len(missing)} generated "
                f"in {seconds:.0f} s ({seconds / len(missing):.1f} s/question)",
                flush=True,
            )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task")
    parser.add_argument("--chunk", type=int, default=16)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    pregenerate(args.task, args.chunk, args.threads, args.device)


if __name__ == "__main__":
    main()
