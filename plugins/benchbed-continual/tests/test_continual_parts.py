"""The building blocks: Fisher estimate, memories, herding, A-GEM's projection, the figure."""

import xml.etree.ElementTree as ET

import pytest
import torch
from benchbed_continual.learner import Learner, Setting
from benchbed_continual.memory import PerContext, Reservoir


def small_learner(scenario="class", n_outputs=4):
    masks = torch.ones(2, n_outputs, dtype=torch.bool)
    learner = Learner()
    learner.prepare(
        Setting(scenario, n_inputs=5, n_outputs=n_outputs, n_contexts=2, masks=masks, hidden=7)
    )
    return learner


def test_fisher_matches_per_example_gradients():
    from benchbed_continual.methods.ewc import fisher_diagonal

    learner = small_learner()
    x = torch.randn(30, 5)
    c = torch.zeros(30, dtype=torch.long)
    learner.generator.manual_seed(3)
    fisher = fisher_diagonal(learner, x, c, chunk=8)
    # The same labels, drawn chunk by chunk from the same generator, one backward per example.
    learner.generator.manual_seed(3)
    expected = {n: torch.zeros_like(p) for n, p in learner.net.named_parameters()}
    for start in range(0, 30, 8):
        xb = x[start : start + 8]
        probs = torch.softmax(learner.net(xb), 1).detach()
        labels = torch.multinomial(probs, 1, generator=learner.generator).flatten()
        for xi, yi in zip(xb, labels):
            learner.net.zero_grad()
            torch.log_softmax(learner.net(xi[None]), 1)[0, yi].backward()
            for n, p in learner.net.named_parameters():
                expected[n] += p.grad**2 / 30
    for n in expected:
        assert torch.allclose(fisher[n], expected[n], atol=1e-6), n


def test_reservoir_keeps_its_size_and_samples_the_whole_stream():
    memory = Reservoir(50, torch.Generator().manual_seed(0))
    for start in range(0, 1000, 10):
        memory.add(torch.arange(start, start + 10))
    assert len(memory) == 50
    (stored,) = memory.sample(50)
    assert len(set(stored.tolist())) == 50
    # Uniform over the stream: about half the kept items come from its second half.
    assert 12 <= int((stored >= 500).sum()) <= 38


def test_per_context_memory_is_balanced():
    memory = PerContext(90, torch.Generator().manual_seed(0))
    for context in range(3):
        memory.add_context(torch.full((100,), context))
    (stored,) = memory.all()
    assert len(stored) == 90
    assert [int((stored == k).sum()) for k in range(3)] == [30, 30, 30]


def test_per_context_memory_can_grow_by_a_fixed_share():
    memory = PerContext(90, torch.Generator().manual_seed(0), per_context=40)
    for context in range(3):
        memory.add_context(torch.full((100,), context))
        (stored,) = memory.all()
        assert [int((stored == k).sum()) for k in range(context + 1)] == [40] * (context + 1)
    (sample,) = memory.sample(200)
    assert len(sample) == 120 and len(set(sample.tolist())) == 3


def test_agem_memory_is_per_context_unless_given_a_total(build):
    masks = torch.ones(3, 4, dtype=torch.bool)
    setting = Setting("class", 5, 4, 3, masks, hidden=7, memory=90, memory_per_context=40)
    learners = {"protocol": build("agem"), "total": build("agem", memory=60)}
    for learner in learners.values():
        learner.prepare(setting)
        for context in range(3):
            learner.episodic.add_context(torch.full((100,), context))
    assert len(learners["protocol"].episodic) == 120
    assert len(learners["total"].episodic) == 60


def test_herding_starts_with_the_example_nearest_the_mean():
    from benchbed_continual.methods.icarl import herding

    features = torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.6, 0.4], [2.0, 2.0]])
    chosen = herding(features, 4).tolist()
    assert chosen[0] == 1  # mean is (0.9, 0.85)
    assert sorted(chosen) == [0, 1, 2, 3]


def test_agem_projection():
    from benchbed_continual.methods.agem import project

    g_ref = torch.tensor([1.0, 0.0])
    assert torch.equal(project(torch.tensor([1.0, 1.0]), g_ref), torch.tensor([1.0, 1.0]))
    projected = project(torch.tensor([-1.0, 2.0]), g_ref)
    assert torch.allclose(projected, torch.tensor([0.0, 2.0]))
    assert projected @ g_ref >= 0


def test_accuracy_matrix_svg_is_valid_and_escaped():
    from benchbed_continual.figures import accuracy_matrix_svg

    svg = accuracy_matrix_svg([[0.9, 0.1], [0.55, 1.0]], title="a <b> & c")
    root = ET.fromstring(svg)  # well-formed XML
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"90", "10", "55", "100"} <= set(texts)
    assert "a <b> & c" in texts and "&lt;b&gt;" in svg


def test_figure_hook_draws_only_accuracy_matrices(tasks):
    from benchbed_continual.plugin import benchbed_figures

    task = tasks["continual/split-digits/class-il"]
    assert benchbed_figures(
        task=task, artifact_name="accuracy_matrix", artifact={"R": [[1.0]]}
    ).startswith("<svg")
    assert benchbed_figures(task=task, artifact_name="other", artifact={}) is None


def test_the_entry_point_module_does_not_import_torch():
    from benchbed.testing import heavy_imports

    assert heavy_imports("benchbed_continual.plugin", ("torch",)) == []


@pytest.mark.parametrize("scenario,outputs", [("task", 10), ("domain", 2), ("class", 10)])
def test_split_scenarios(ctx, scenario, outputs):
    from benchbed_continual.benchmarks import DIGITS, split_stream

    from benchbed.data.images import load_digits

    stream = split_stream(load_digits, scenario, DIGITS, ctx)
    assert stream.setting.n_outputs == outputs
    first = stream.train(1)
    if scenario == "domain":
        assert set(first.y.tolist()) == {0, 1}
    else:
        assert set(first.y.tolist()) == {2, 3}
    if scenario == "task":
        assert stream.setting.masks[1].nonzero().flatten().tolist() == [2, 3]
    else:
        assert bool(stream.setting.masks.all())


def test_item_scores_average_to_the_mean_of_context_accuracies():
    import torch
    from benchbed_continual.benchmarks import _item_scores

    # context 0: 1 of 2 right (0.5); context 1: 3 of 4 right (0.75); average accuracy 0.625
    hits = [
        [torch.tensor([True, False])],
        [torch.tensor([True, True]), torch.tensor([True, False])],
    ]
    scores = _item_scores(hits)
    assert scores == pytest.approx([1.5, 0.0, 0.75, 0.75, 0.75, 0.0])
    assert sum(scores) / len(scores) == pytest.approx(0.625)


@pytest.mark.parametrize(
    ("strengths", "method", "scenario", "expected"),
    [
        ("hsu", "ewc", "class", 1200.0),  # Hsu et al.'s reg_coef 600, as lambda/2
        ("hsu", "si", "domain", 3000.0),
        ("van-de-ven-split-mnist", "ewc", "domain", 1e10),  # van de Ven et al.'s code
        ("van-de-ven-split-mnist", "online-ewc", "class", 1e9),
        ("van-de-ven-split-mnist", "si", "task", 10.0),
        ("van-de-ven-permuted-mnist", "si", "domain", 10.0),
        ("van-de-ven-permuted-mnist", "online-ewc", "domain", 100.0),
    ],
)
def test_regularisers_default_to_the_strengths_of_their_tasks_source(
    build, strengths, method, scenario, expected
):
    masks = torch.ones(2, 4, dtype=torch.bool)
    setting = Setting(scenario, 5, 4, 2, masks, hidden=7, strengths=strengths)
    learner = build(method)
    learner.prepare(setting)
    assert learner.strength == expected
    explicit = build(method, **{"si_c" if method == "si" else "ewc_lambda": 7.0})
    explicit.prepare(setting)
    assert explicit.strength == 7.0


def test_the_van_de_ven_protocols_take_van_de_ven_strengths():
    from benchbed_continual.benchmarks import HSU, PERMUTED, VAN_DE_VEN

    assert (HSU.strengths, VAN_DE_VEN.strengths, PERMUTED.strengths) == (
        "hsu",
        "van-de-ven-split-mnist",
        "van-de-ven-permuted-mnist",
    )


def test_the_protocol_picks_the_optimiser(build):
    from benchbed import BenchbedError

    masks = torch.ones(2, 4, dtype=torch.bool)
    sgd = Setting("class", 5, 4, 2, masks, hidden=7, lr=0.1, optimizer="sgd")
    for method in ("naive", "tame", "fast-slow"):
        learner = build(method)
        learner.prepare(sgd)
        assert type(learner.optimizer) is torch.optim.SGD
        assert learner.optimizer.param_groups[0]["lr"] == 0.1
    assert type(small_learner().optimizer) is torch.optim.Adam
    with pytest.raises(BenchbedError, match="unknown optimizer 'adamw'.*'sgd'"):
        build("naive").prepare(Setting("class", 5, 4, 2, masks, optimizer="adamw"))


def test_protocol_fields_added_later_stay_out_of_older_cache_keys(ctx):
    from benchbed_continual.benchmarks import (
        AGEM_PERMUTED,
        HSU,
        make_setting,
        protocol_record,
    )

    masks = torch.ones(5, 10, dtype=torch.bool)
    hsu = protocol_record(make_setting(HSU, "class", 784, 10, masks, [12000] * 5, ctx))
    assert "optimizer" not in hsu and "memory_per_context" not in hsu
    agem = protocol_record(make_setting(AGEM_PERMUTED, "domain", 784, 10, masks, [600] * 5, ctx))
    assert (agem["optimizer"], agem["memory_per_context"], agem["iters"]) == ("sgd", 250, 60)
