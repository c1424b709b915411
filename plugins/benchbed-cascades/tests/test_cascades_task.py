"""The task end to end on stored generations (written here by hand: no model runs)."""

import numpy as np
import pytest
from benchbed_cascades import datasets, figures, tasks
from benchbed_cascades.generate import Generation, GenerationCache
from benchbed_cascades.rules import ChowQuantile, Oracle, PostHoc, Random

from benchbed import Context
from benchbed.testing import require_asset


def fake_generations(task, ctx, rng, anyone_right=True):
    """Small model right on half the questions and unsure (one weak token) where wrong;
    the large model always right (with `anyone_right=False`: both always wrong)."""
    ds = datasets.load(task.dataset)
    questions = ds.questions[: task.n]
    for role, model in (("small", task.small), ("large", task.large)):
        cache = GenerationCache(ctx.cache_dir / "generations", model, ds, tasks.MAX_NEW_TOKENS)
        for i, q in enumerate(questions):
            right = anyone_right and ((i % 2 == 0) if role == "small" else True)
            p = rng.uniform(0.9, 1.0, 3)
            if not right:
                p[1] = rng.uniform(0.1, 0.4)
            cache.put(q.id, Generation(
                q.answers[0] if right else "no idea", np.log(p), rng.normal(size=8), rng.normal(size=6),
                0.1 if role == "small" else 0.5, 0.05, 4,
            ))  # fmt: skip
        cache.save()
    return questions


@pytest.fixture
def task_and_ctx(cache):
    task = tasks.CascadeTask("quiz", "smol135m-qwen0.5b", 60)
    ctx = Context(seed=3, plugin="cascades", show_progress=False)
    require_asset(lambda: fake_generations(task, ctx, np.random.default_rng(0)))
    return task, ctx


def test_task_reports_curves_metrics_and_costs(task_and_ctx):
    task, ctx = task_and_ctx
    result = task.evaluate(ChowQuantile(0.0), ctx)
    m = {k: v.value for k, v in result.metrics.items()}
    assert set(m) == set(tasks.METRICS)
    curve = result.artifacts["deferral_curve"]
    assert curve["n_test"] == 30 and len(curve["rate"]) == 31
    assert curve["quality"][0] == pytest.approx(m["quality_small"])
    assert curve["quality"][-1] == pytest.approx(m["quality_large"])
    # the weak token marks exactly the small model's mistakes: Chow-Quantile-0 is the oracle here
    assert curve["quality"] == pytest.approx(curve["oracle"])
    assert m["rel_improvement"] > 0.05
    assert len(result.metrics["auc_df"].samples) == 30
    cost = result.artifacts["cost_curve"]
    assert cost["small_ms"] == pytest.approx(100) and cost["large_ms"] == pytest.approx(500)
    assert cost["latency_ms"][0] == pytest.approx(100) and cost["latency_ms"][-1] == pytest.approx(
        600
    )
    assert m["latency_to_match_large_ms"] == pytest.approx(100 + 500 * m["deferral_to_match_large"])
    import xml.etree.ElementTree as ET

    for name, draw in (
        ("deferral_curve", figures.deferral_curve_svg),
        ("cost_curve", figures.cost_curve_svg),
    ):
        svg = draw("cascades/<a&b>", result.artifacts[name])
        root = ET.fromstring(svg)  # well-formed, with the title escaped
        assert root.tag.endswith("svg") and "cascades/<a&b>" in "".join(root.itertext())
        assert len(root.findall("{http://www.w3.org/2000/svg}polyline")) == (
            3 if name == "deferral_curve" else 1
        )


def test_relative_improvement_is_left_out_when_neither_model_is_ever_right(cache):
    # AUC_random = 0: (AUC - AUC_random) / AUC_random is undefined, not a number to average
    task = tasks.CascadeTask("quiz", "smol135m-qwen0.5b", 60)
    ctx = Context(seed=3, plugin="cascades", show_progress=False)
    require_asset(lambda: fake_generations(task, ctx, np.random.default_rng(0), anyone_right=False))
    metrics = task.evaluate(ChowQuantile(0.0), ctx).metrics
    assert "rel_improvement" not in metrics
    assert metrics["auc_df"].value == 0 and set(metrics) == set(tasks.METRICS) - {"rel_improvement"}


def test_same_seed_same_numbers_other_seed_other_split(task_and_ctx):
    task, ctx = task_and_ctx
    a = task.evaluate(Random(), ctx).metrics["auc_df"].value
    b = task.evaluate(Random(), ctx).metrics["auc_df"].value
    c = (
        task.evaluate(Random(), Context(seed=4, plugin="cascades", show_progress=False))
        .metrics["auc_df"]
        .value
    )
    assert a == b and a != c


def test_oracle_bounds_every_rule_and_embed_1_2_pays_the_large_prefix(task_and_ctx):
    task, ctx = task_and_ctx
    oracle = task.evaluate(Oracle(), ctx).metrics["auc_df"].value
    for rule in (ChowQuantile(0.5), PostHoc("quantile", hidden=8), PostHoc("embed-1+2", hidden=8)):
        assert task.evaluate(rule, ctx).metrics["auc_df"].value <= oracle + 1e-9
    cost = task.evaluate(PostHoc("embed-1+2", hidden=8), ctx).artifacts["cost_curve"]
    assert cost["extra_ms"] == pytest.approx(50) and cost["latency_ms"][0] == pytest.approx(150)


def test_generation_cache_keeps_what_another_process_added(cache):
    from benchbed_cascades.generate import GenerationCache

    ds = require_asset(datasets.load_quiz)
    folder = cache / "gen"
    g = Generation("x", np.log([0.5]), np.zeros(2), np.ones(2), 0.1, 0.01, 1, (7,))
    a = GenerationCache(folder, "m", ds, 24)
    b = GenerationCache(folder, "m", ds, 24)  # both loaded before either wrote
    a.put("q1", g)
    a.save()
    b.put("q2", g)
    b.save()
    c = GenerationCache(folder, "m", ds, 24)
    assert set(c.items) == {"q1", "q2"} and c.get("q1").tokens == (7,)
    assert GenerationCache(folder, "m", ds, 16).items == {}  # other decoding settings: another key
