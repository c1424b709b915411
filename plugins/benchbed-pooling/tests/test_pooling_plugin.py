"""Registration: cheap import, every task and design listed, suites valid, significance."""

import json

import pytest

from benchbed.testing import heavy_imports


def test_entry_point_module_imports_no_heavy_library():
    heavy = ("torch", "transformers", "mteb", "datasets")
    assert heavy_imports("benchbed_pooling.plugin", heavy) == []


def test_registry_has_the_tasks_designs_and_suites():
    from benchbed.plugins import load_registry

    registry = load_registry()
    info = registry.plugins["pooling"]
    assert not info.broken and not info.problems
    for task in ("pooling/sts/lee", "pooling/classification/fortunes", "pooling/clustering/wordnet-lexname",
                 "pooling/retrieval/wordnet-gloss2word", "pooling/speed/encode"):  # fmt: skip
        assert task in registry.tasks
    for model in ("pool-mean", "pool-cls", "pool-last", "pool-max", "pool-weighted-mean",
                  "pool-trainable-last", "pool-trainable-multi", "st-reference"):  # fmt: skip
        assert model in registry.models
    assert {"pooling-quick", "pooling", "pooling-decoders"} <= set(registry.suites)
    # every design takes a LoRA rank; 0 (the default) keeps the backbone frozen
    for model in ("pool-mean", "pool-last", "pool-trainable-last", "pool-trainable-multi"):
        assert registry.models[model].defaults["lora_rank"] == 0


@pytest.mark.parametrize(
    "suite", ["pooling-quick", "pooling", "pooling-decoders", "pooling-decoders-lora"]
)
def test_suites_expand(suite):
    from benchbed.plugins import load_registry
    from benchbed.suites import load_suite

    registry = load_registry()
    loaded = load_suite(registry, registry.suites[suite], "cpu")
    assert loaded.cells


def test_hub_tasks_come_from_the_environment(monkeypatch):
    from benchbed_pooling.tasks import hub_tasks

    assert [t.name for t in hub_tasks("STSBenchmark, Banking77Classification")] == [
        "pooling/mteb/STSBenchmark", "pooling/mteb/Banking77Classification",
    ]  # fmt: skip


def test_wilcoxon_over_tasks_between_designs(tmp_path):
    from benchbed_pooling import significance

    rows = []
    tasks = [f"pooling/sts/t{i}" for i in range(6)] + [f"pooling/clustering/c{i}" for i in range(3)]
    for i, task in enumerate(tasks):
        for model, value in (("pool-mean", 0.5 + i / 100), ("pool-cls", 0.3 + i / 90)):
            rows.append({"task": task, "model": model, "params": "{}", "seed": 0, "status": "ok",
                         "metric": "v_measure" if "clustering" in task else "cosine_spearman", "value": value})  # fmt: skip
    path = tmp_path / "r.json"
    path.write_text(json.dumps(rows))
    scores = significance.main_scores(rows)
    c = significance.compare(scores["pool-mean"], scores["pool-cls"])
    assert c["tasks"] == 9 and c["wins"] == 9 and c["p"] == pytest.approx(2 / 2**9)
    lines = significance.report(scores).splitlines()
    verdicts = [line.split("  ")[-1] for line in lines if line.startswith("pool-cls")]
    # all nine tasks and the six STS tasks: B (pool-mean) better; three clustering tasks cannot tell
    assert verdicts == ["B better", "B better", "too few tasks (min p 0.25)"]
    assert significance.main([str(path)]) == 0


def test_samples_are_kept_only_when_they_average_to_mtebs_score():
    from benchbed_pooling.tasks import MtebTask, main_score

    clustering = MtebTask("pooling/clustering/fortunes", "FortunesClustering")
    assert clustering._samples({"v_measures": {"Level 0": [0.1, 0.3]}}, None, None) == [0.1, 0.3]
    classification = MtebTask("pooling/classification/fortunes", "FortunesClassification")
    scores = {"scores_per_experiment": [{"accuracy": 0.5}, {"accuracy": 0.7}]}
    assert classification._samples(scores, None, None) == [0.5, 0.7]
    kept = main_score(0.2, [0.1, 0.3], "bootstrap")
    assert (
        kept.samples == [0.1, 0.3] and kept.unit == "bootstrap" and kept.value == pytest.approx(0.2)
    )
    dropped = main_score(0.9, [0.1, 0.3], "bootstrap")
    assert dropped.samples is None and dropped.value == 0.9
