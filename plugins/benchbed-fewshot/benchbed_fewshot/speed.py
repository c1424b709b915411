"""Episodes per second: batched evaluation against a per-episode Python loop, in one run.

    python -m benchbed_fewshot.speed --benchmark wordnet --method simpleshot --episodes 10000 --device cpu
    python -m benchbed_fewshot.speed --benchmark wordnet --method icl-lm --episodes 10

Both paths run the same method code on the same episodes and device; the loop hands the
method one episode at a time (what a straightforward implementation does), the batched path
hands it `--chunk` episodes at once. The predictions must agree exactly.

For `icl-lm` (an LM pass per episode either way) the comparison is within the episode: its
queries packed into shared LM passes after the cached demonstrations, against one query per
pass, on the same `--episodes` text episodes (15 queries per class); the predictions must
agree (the scores differ only by floating-point rounding).
"""

from __future__ import annotations

import argparse
import json
import time


def novel_episodes(benchmark: str, episodes: int, shots: int, device: str):
    """(data, index): a benchmark's features and seed-0 5-way episodes over its novel classes."""
    from benchbed import Context
    from benchbed_fewshot.benchmarks import BENCHMARKS
    from benchbed_fewshot.episodes import sample_episodes

    bench = next(b for b in BENCHMARKS if b.name == benchmark)
    ctx = Context(seed=0, device=device, plugin="fewshot", show_progress=False)
    data = bench.load(ctx)
    index = sample_episodes(data.labels, data.split.novel, 5, shots, 15, episodes, ctx.rng(0))
    return data, index


def measure(
    benchmark: str,
    method: str,
    episodes: int,
    shots: int,
    device: str,
    chunk: int,
    loop_episodes: int,
) -> dict:
    import torch

    from benchbed.hardware import device_name
    from benchbed_fewshot.episodes import EpisodeBatch
    from benchbed_fewshot.plugin import MODELS

    data, index = novel_episodes(benchmark, episodes, shots, device)
    feats = torch.as_tensor(data.features, device=device)
    mean = torch.as_tensor(data.base_mean, device=device)
    model = next(m for m in MODELS if m.name == method)
    model = model.factory(**model.defaults)
    if not chunk:
        from benchbed_fewshot.benchmarks import BENCHMARKS
        from benchbed_fewshot.tasks import FewShotTask

        bench = next(b for b in BENCHMARKS if b.name == benchmark)
        chunk = FewShotTask(bench, 5, shots, episodes=episodes).episode_chunk(
            device, int(feats.shape[1])
        )

    def sync():
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def run(step: int, count: int):
        preds = []
        with torch.no_grad():
            model.predict(
                EpisodeBatch.gather(feats, index.slice(0, min(step, count)), mean)
            )  # warm-up
            sync()
            start = time.perf_counter()
            for s in range(0, count, step):
                preds.append(
                    model.predict(
                        EpisodeBatch.gather(feats, index.slice(s, min(s + step, count)), mean)
                    )
                )
            sync()
        return count / (time.perf_counter() - start), torch.cat(preds)

    batched, p_batched = run(chunk, episodes)
    looped, p_loop = run(1, loop_episodes)
    return {
        "benchmark": benchmark,
        "method": method,
        "shots": shots,
        "dim": int(feats.shape[1]),
        "device": device,
        "device_name": device_name(device),
        "episodes": episodes,
        "chunk": chunk,
        "threads": torch.get_num_threads(),
        "batched_episodes_per_s": round(batched, 1),
        "loop_episodes_per_s": round(looped, 1),
        "loop_episodes": loop_episodes,
        "speedup": round(batched / looped, 1),
        "same_predictions": bool(torch.equal(p_batched[:loop_episodes], p_loop)),
    }


def measure_in_context(benchmark: str, episodes: int, shots: int, device: str) -> dict:
    import torch

    from benchbed.hardware import device_name
    from benchbed_fewshot.episodes import EpisodeBatch
    from benchbed_fewshot.methods.in_context_lm import InContextLM, scorer

    data, index = novel_episodes(benchmark, episodes, shots, device)
    if data.texts is None:
        raise SystemExit(f"benchmark {benchmark!r} has no texts; icl-lm needs a text benchmark")
    batch = EpisodeBatch.gather(torch.as_tensor(data.features, device=device), index)
    batch.attach_texts(index, data.texts, data.label_names)
    scorer("smollm2-135m", device)  # load the LM before timing

    def run(tokens_per_pass: int):
        model = InContextLM(seed=0)  # the same demonstration orders for both paths
        model.tokens_per_pass = tokens_per_pass
        start = time.perf_counter()
        predicted = model.predict(batch)
        return episodes / (time.perf_counter() - start), predicted

    packed, p_packed = run(InContextLM.tokens_per_pass)
    single, p_single = run(1)
    return {
        "benchmark": benchmark,
        "method": "icl-lm",
        "shots": shots,
        "device": device,
        "device_name": device_name(device),
        "episodes": episodes,
        "threads": torch.get_num_threads(),
        "packed_episodes_per_s": round(packed, 4),
        "one_query_per_pass_episodes_per_s": round(single, 4),
        "speedup": round(packed / single, 1),
        "same_predictions": bool(torch.equal(p_packed, p_single)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", default="wordnet")
    parser.add_argument("--method", default="simpleshot")
    parser.add_argument("--episodes", type=int, default=10_000)
    parser.add_argument(
        "--loop-episodes", type=int, default=2_000, help="episodes timed in the loop"
    )
    parser.add_argument("--shots", type=int, default=1)
    parser.add_argument(
        "--chunk", type=int, default=0, help="episodes per batch (default: the task's)"
    )
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.method == "icl-lm":
        print(
            json.dumps(measure_in_context(args.benchmark, args.episodes, args.shots, args.device))
        )
        return
    print(
        json.dumps(
            measure(
                args.benchmark,
                args.method,
                args.episodes,
                args.shots,
                args.device,
                args.chunk,
                args.loop_episodes,
            )
        )
    )


if __name__ == "__main__":
    main()
