"""Generate once, analyse many times: greedy decoding of one model over a dataset, cached.

Per question the cache holds the output text, every output token's log-probability (up to
and including the end-of-turn token), the final-layer hidden state averaged over the positions
that produced the output tokens, the hidden state of the last prompt token at the middle layer,
and measured costs: seconds per question of the batched generation, and seconds per question
of a prefill that stops at the middle layer (what Post-Hoc-Embed-1+2 pays the large model
before deciding; timed on the first batch of each generation run, to save a pass per batch). The cache is per model and dataset, keyed by the weight file's sha256, the
dataset version, the prompt format and the decoding settings; questions are added as needed,
so a task on the first 40 questions reuses a run on the first 200.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchbed import lms
from benchbed_cascades.datasets import Dataset, Question

PROMPT_VERSION = "qa-fewshot-1"


@dataclass
class Generation:
    output: str
    logprobs: np.ndarray  # (tokens,) natural-log probability of each output token
    emb_final: np.ndarray  # (hidden,) final layer, mean over output positions
    emb_mid: np.ndarray  # (hidden,) middle layer, last prompt token
    seconds: float  # generation time per question (its batch's time / batch size)
    mid_seconds: float  # middle-layer prefill time per question
    batch_size: int
    tokens: tuple[
        int, ...
    ] = ()  # the output token ids (empty in caches written before they were kept)


def prompt(dataset: Dataset, question: Question) -> str:
    """A few-shot question/answer completion; the answer ends at the first newline.

    A plain completion rather than the chat template: with it even the 135M model answers in
    a few words, which exact match needs (in chat form it writes a sentence), and it is the
    short-answer setting of the paper's few-shot FLAN-T5 prompts.
    """
    shots = "".join(f"Question: {q}\nAnswer: {a}\n\n" for q, a in dataset.demos)
    return f"{dataset.instruction}\n\n{shots}Question: {question.question}\nAnswer:"


def cache_key(model: str, dataset: Dataset, max_new_tokens: int) -> str:
    payload = json.dumps(
        [lms.identity(model), dataset.name, dataset.version, PROMPT_VERSION, max_new_tokens]
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class GenerationCache:
    """`<dir>/<dataset>-<model>-<key>.json` (text, log-probs, costs) + `.npz` (embeddings)."""

    def __init__(self, folder: Path, model: str, dataset: Dataset, max_new_tokens: int):
        safe = model.replace("/", "_")
        stem = f"{dataset.name}-{safe}-{cache_key(model, dataset, max_new_tokens)}"
        self.json_path = folder / f"{stem}.json"
        self.npz_path = folder / f"{stem}.npz"
        self.meta: dict = {"model": model, "dataset": dataset.name, "runs": []}
        self.items: dict[str, dict] = {}
        self.emb: dict[str, np.ndarray] = {}
        if self.json_path.is_file() and self.npz_path.is_file():
            data = json.loads(self.json_path.read_text())
            self.meta, self.items = data["meta"], data["items"]
            with np.load(self.npz_path) as npz:
                self.emb = {k: npz[k] for k in npz.files}
            self.items = {k: v for k, v in self.items.items() if f"final:{k}" in self.emb}

    def get(self, qid: str) -> Generation | None:
        item = self.items.get(qid)
        if item is None:
            return None
        return Generation(
            item["output"],
            np.asarray(item["logprobs"], dtype=np.float64),
            self.emb[f"final:{qid}"],
            self.emb[f"mid:{qid}"],
            item["seconds"],
            item["mid_seconds"],
            item["batch_size"],
            tuple(item.get("tokens", ())),
        )

    def put(self, qid: str, g: Generation) -> None:
        self.items[qid] = {
            "output": g.output,
            "logprobs": [float(x) for x in g.logprobs],
            "seconds": g.seconds,
            "mid_seconds": g.mid_seconds,
            "batch_size": g.batch_size,
            "tokens": [int(t) for t in g.tokens],
        }
        self.emb[f"final:{qid}"] = g.emb_final.astype(np.float32)
        self.emb[f"mid:{qid}"] = g.emb_mid.astype(np.float32)

    def save(self) -> None:
        # another process (a parallel cell) may have added questions since this one loaded
        if self.json_path.is_file() and self.npz_path.is_file():
            try:
                data = json.loads(self.json_path.read_text())
                with np.load(self.npz_path) as npz:
                    for qid, item in data["items"].items():
                        if qid not in self.items and f"final:{qid}" in npz.files:
                            self.items[qid] = item
                            self.emb[f"final:{qid}"] = npz[f"final:{qid}"]
                            self.emb[f"mid:{qid}"] = npz[f"mid:{qid}"]
                runs = [r for r in data["meta"].get("runs", []) if r not in self.meta["runs"]]
                self.meta["runs"] = runs + self.meta["runs"]
            except (OSError, ValueError, KeyError):
                pass  # a half-written file from a crashed run: ours replaces it
        self.json_path.parent.mkdir(parents=True, exist_ok=True)
        tmp_json = self.json_path.with_suffix(f".tmp{os.getpid()}.json")
        tmp_npz = self.npz_path.with_suffix(f".tmp{os.getpid()}.npz")
        np.savez(tmp_npz, **self.emb)
        tmp_json.write_text(json.dumps({"meta": self.meta, "items": self.items}))
        os.replace(tmp_npz, self.npz_path)  # embeddings first: a json item implies its vectors
        os.replace(tmp_json, self.json_path)


class _Stop(Exception):
    def __init__(self, hidden):
        self.hidden = hidden


class Generator:
    """Loads a model once and runs batched greedy decoding with a KV cache."""

    def __init__(self, model: str, device: str = "cpu", threads: int = 0):
        """`threads`: torch CPU threads; 0 keeps the process's setting (`benchbed run --threads`)."""
        import torch

        if threads:
            torch.set_num_threads(threads)
        self.threads = torch.get_num_threads()
        start = time.perf_counter()
        self.name, self.device = model, device
        self.tokenizer, self.model = lms.load(model, device)
        self.load_seconds = time.perf_counter() - start
        self.layers = self._decoder_layers()
        self.mid_layer = len(self.layers) // 2
        self.stop_ids = {self.tokenizer.eos_token_id}
        for token in ("<|im_end|>", "<|endoftext|>"):
            tid = self.tokenizer.convert_tokens_to_ids(token)
            if isinstance(tid, int) and tid != self.tokenizer.unk_token_id:
                self.stop_ids.add(tid)

    def _decoder_layers(self):
        inner = getattr(self.model, "model", None)
        layers = getattr(inner, "layers", None)
        if layers is None:
            from benchbed import BenchbedError

            raise BenchbedError(f"{self.name}: cannot find the decoder layers (model.model.layers)")
        return layers

    def _encode(self, dataset: Dataset, batch: list[Question]):
        prompts = [prompt(dataset, q) for q in batch]
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        return {k: v.to(self.device) for k, v in enc.items()}

    def _sync(self):
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.synchronize()

    def mid_prefill(self, enc):
        """Hidden state of the last prompt token after the middle layer, and its cost: the
        forward pass is cut there, as a cascade would run only the large model's lower half."""
        import torch

        def stop(module, args, output):
            raise _Stop(output[0] if isinstance(output, tuple) else output)

        handle = self.layers[self.mid_layer - 1].register_forward_hook(stop)
        self._sync()
        start = time.perf_counter()
        try:
            with torch.no_grad():
                self.model(**enc, use_cache=False)
            raise RuntimeError("the middle-layer hook did not fire")
        except _Stop as s:
            hidden = s.hidden
        finally:
            handle.remove()
        self._sync()
        return hidden[:, -1, :].float().cpu().numpy(), time.perf_counter() - start

    def run(self, dataset: Dataset, batch: list[Question], max_new_tokens: int,
            mid_seconds: float | None = None) -> tuple[list[Generation], float]:  # fmt: skip
        """Generate for one batch. The middle-layer prefill is timed when `mid_seconds` is None
        (its embedding comes from the generation pass either way); otherwise that per-question
        time, measured on an earlier batch, is recorded. Returns the mid time per question too."""
        import torch

        enc = self._encode(dataset, batch)
        if mid_seconds is None:
            self.mid_prefill(enc)  # the first pass pays one-off allocation costs
            _, seconds = self.mid_prefill(enc)
            mid_seconds = seconds / len(batch)
        self._sync()
        start = time.perf_counter()
        with torch.no_grad():
            out = self.model.generate(
                **enc,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                repetition_penalty=None,
                num_beams=1,
                eos_token_id=sorted(self.stop_ids),
                stop_strings=["\n"],
                tokenizer=self.tokenizer,
                pad_token_id=self.tokenizer.pad_token_id,
                output_logits=True,
                output_hidden_states=True,
                return_dict_in_generate=True,
            )
        self._sync()
        seconds = time.perf_counter() - start
        prompt_len = enc["input_ids"].shape[1]
        tokens = out.sequences[:, prompt_len:].cpu()
        logps = torch.stack([torch.log_softmax(x.float(), dim=-1) for x in out.logits], dim=1).cpu()
        # final-layer state that produced each output token: step 0 is the prompt's last position
        finals = torch.stack([h[-1][:, -1, :] for h in out.hidden_states], dim=1).float().cpu()
        # step 0 holds the prompt: hidden_states[k] is the output of decoder layer k - 1
        emb_mid = out.hidden_states[0][self.mid_layer][:, -1, :].float().cpu().numpy()
        results = []
        n = len(batch)
        for b in range(n):
            length = tokens.shape[1]
            for t in range(tokens.shape[1]):
                tid = int(tokens[b, t])
                if tid in self.stop_ids or "\n" in self.tokenizer.decode([tid]):
                    length = t + 1
                    break
            ids = tokens[b, :length]
            lp = logps[b, torch.arange(length), ids].double().numpy()
            text = self.tokenizer.decode(ids, skip_special_tokens=True).split("\n")[0]
            results.append(
                Generation(
                    output=text.strip(),
                    logprobs=lp,
                    emb_final=finals[b, :length].mean(dim=0).numpy(),
                    emb_mid=emb_mid[b],
                    seconds=seconds / n,
                    mid_seconds=mid_seconds,
                    batch_size=n,
                    tokens=tuple(int(t) for t in ids),
                )
            )
        return results, mid_seconds

    def new_tokens(self, gens: list[Generation]) -> int:
        return sum(len(g.logprobs) for g in gens)


def generate_missing(
    gen: Generator,
    cache: GenerationCache,
    dataset: Dataset,
    missing: list[Question],
    batch_size: int,
    max_new_tokens: int,
    mid=None,
    *,
    step=lambda items: contextlib.nullcontext(),
    progress=lambda batches: batches,
    run_info: dict | None = None,
):
    """Generate `missing` in batches into `cache` (saved after every batch, so an interrupted
    run keeps what it has) and record the run in the cache's metadata. `mid` is the running
    middle-layer cost estimate `Generator.run` threads through; the updated one is returned.
    `step(items)` and `progress(batches)` let a cell time the batches and show progress."""
    tokens, start = 0, time.perf_counter()
    batches = [missing[i : i + batch_size] for i in range(0, len(missing), batch_size)]
    for batch in progress(batches):
        with step(len(batch)):
            outs, mid = gen.run(dataset, batch, max_new_tokens, mid)
        tokens += gen.new_tokens(outs)
        for q, g in zip(batch, outs, strict=True):
            cache.put(q.id, g)
        cache.save()
    seconds = time.perf_counter() - start
    cache.meta["runs"].append(
        {
            "questions": len(missing),
            "seconds": seconds,
            "new_tokens": tokens,
            "tokens_per_s": tokens / seconds if seconds else None,
            "load_seconds": gen.load_seconds,
            "device": gen.device,
            "batch_size": batch_size,
            "threads": gen.threads,
            "mid_layer": gen.mid_layer,
            "layers": len(gen.layers),
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **(run_info or {}),
        }
    )
    cache.save()
    return mid


def generations(
    model: str,
    dataset: Dataset,
    questions: list[Question],
    ctx,
    role: str,
    batch_size: int = 4,
    max_new_tokens: int = 24,
    threads: int = 0,
) -> tuple[list[Generation], dict]:
    """The cached generations of `model` for `questions`, generating (and timing) what is missing."""
    cache = GenerationCache(ctx.cache_dir / "generations", model, dataset, max_new_tokens)
    missing = [q for q in questions if cache.get(q.id) is None]
    info = {"model": model, "generated_now": len(missing), "cached": len(questions) - len(missing)}
    if missing:
        gen = Generator(model, ctx.device, threads)
        with ctx.timer.phase(
            f"generate-{role}", items=len(missing), batch_size=batch_size, dtype="float32"
        ) as phase:
            generate_missing(
                gen,
                cache,
                dataset,
                missing,
                batch_size,
                max_new_tokens,
                step=lambda items: phase.step(items=items),
                progress=lambda batches: ctx.progress(batches, desc=f"{role} {model}"),
                run_info={"device_name": ctx.timer.device_name},
            )
    gens = [cache.get(q.id) for q in questions]
    tokens = sum(len(g.logprobs) for g in gens)
    seconds = sum(g.seconds for g in gens)
    info.update(
        {
            "latency_ms_per_question": 1000 * seconds / len(gens),
            "mid_prefill_ms_per_question": 1000 * sum(g.mid_seconds for g in gens) / len(gens),
            "tokens_per_s": tokens / seconds if seconds else None,
            "mean_output_tokens": tokens / len(gens),
            "runs": cache.meta["runs"],
            "cache_file": str(cache.json_path),
        }
    )
    return gens, info
