"""benchbed entry point: tasks, models, metrics and suites of the text-to-SQL plugin.

Kept light: nothing heavy (sqlglot, torch, transformers) is imported until a cell runs.
"""

from __future__ import annotations

from pathlib import Path

import benchbed
from benchbed import HIGHER, LOWER, Metric, ModelSpec

KINDS = ("sql-generator",)
QWEN = {"qwen2.5-coder-0.5b": "0.5B", "qwen2.5-coder-1.5b": "1.5B"}


def gold_oracle():
    from benchbed_text2sql.methods.gold import GoldOracle

    return GoldOracle()


def nearest_question(encoder="sentence-transformers/all-MiniLM-L6-v2"):
    from benchbed_text2sql.methods.retrieval import NearestQuestion

    return NearestQuestion(encoder=encoder)


def causal_lm(**params):
    from benchbed_text2sql.methods.llm import CausalLMSQL

    return CausalLMSQL(**params)


LM_DEFAULTS = {
    "model": "qwen2.5-coder-0.5b",
    "shots": 0,
    "samples": 1,
    "temperature": 0.7,
    "max_new_tokens": 128,
    "draft": "",
    "threshold": 0.85,
}


def _lm(name, description, **overrides):
    return ModelSpec(
        name,
        kinds=KINDS,
        factory=causal_lm,
        description=description,
        defaults={**LM_DEFAULTS, **overrides},
        search_space={"shots": ("int", 0, 8), "temperature": ("float", 0.1, 1.2)},
    )


@benchbed.hookimpl
def benchbed_tasks():
    from benchbed_text2sql.tasks import all_tasks

    return all_tasks()


@benchbed.hookimpl
def benchbed_models():
    models = [
        ModelSpec(
            "gold-sql",
            kinds=KINDS,
            factory=gold_oracle,
            description="oracle: the gold query itself (checks the evaluator: must score 100%)",
        ),
        ModelSpec(
            "nearest-question-sql",
            kinds=KINDS,
            factory=nearest_question,
            description="SQL of the most similar demonstration question (MiniLM), values swapped",
            defaults={"encoder": "sentence-transformers/all-MiniLM-L6-v2"},
        ),
        _lm(
            "causal-lm-sql",
            "any Hugging Face causal LM (model=folder, hub id or a Qwen name), "
            "zero-shot with the schema; shots>0: DAIL-SQL demonstrations (draft=zero-shot or "
            "nearest-question adds the draft-query skeleton rule); samples>1: voting",
        ),
    ]
    for key, size in QWEN.items():
        models += [
            _lm(
                f"{key}-zero-shot",
                f"Qwen2.5-Coder-{size}-Instruct, schema as CREATE TABLE, greedy",
                model=key,
            ),
            _lm(
                f"{key}-dail",
                f"Qwen2.5-Coder-{size}-Instruct, 4 demonstrations chosen by DAIL-SQL's rule "
                "(masked-question similarity, skeleton of the zero-shot draft >= 0.85), greedy",
                model=key,
                shots=4,
                draft="zero-shot",
            ),
            _lm(
                f"{key}-self-consistency",
                f"Qwen2.5-Coder-{size}-Instruct, DAIL prompt, 5 samples "
                "at T=0.7, majority vote over execution results",
                model=key,
                shots=4,
                samples=5,
                draft="zero-shot",
            ),
        ]
    return models


@benchbed.hookimpl
def benchbed_metrics():
    from benchbed_text2sql.sqlinfo import HARDNESS_LEVELS

    metrics = [
        Metric(
            "execution_accuracy",
            HIGHER,
            "fraction of questions whose result matches gold on every instance (test-suite)",
        ),
        Metric(
            "exact_set_match",
            HIGHER,
            "Spider's exact set match: every clause equal as a set, values and DISTINCT ignored",
        ),
        Metric(
            "valid_efficiency_score",
            HIGHER,
            "BIRD's VES: mean of 1[correct] * sqrt(time gold / time predicted)",
        ),
        Metric("syntax_error_rate", LOWER, "fraction of predictions SQLite cannot parse"),
        Metric(
            "runtime_error_rate",
            LOWER,
            "fraction failing at run time (unknown column, refused statement, row cap)",
        ),
        Metric("timeout_rate", LOWER, "fraction interrupted by the time budget"),
        Metric("wrong_result_rate", LOWER, "fraction that run but return a different result"),
    ]
    for level in HARDNESS_LEVELS:
        metrics.append(
            Metric(f"execution_accuracy_{level}", HIGHER, f"execution accuracy, {level}")
        )
        metrics.append(Metric(f"exact_set_match_{level}", HIGHER, f"exact set match, {level}"))
    return metrics


@benchbed.hookimpl
def benchbed_suites():
    return sorted((Path(__file__).parent / "suites").glob("*.toml"))
