"""TAME on Split-Digits: it finds the context switches from the loss alone, returns to an
old expert when its context recurs, and its pruned selector routes test inputs to the
expert that learned their context."""

import math

import pytest

from benchbed import BenchbedError

ITERS = 100  # Split-Digits' steps per context


@pytest.fixture(scope="module")
def class_il(tasks, build, tmp_path_factory):
    from benchbed import Context, seed_everything

    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BENCHBED_CACHE", str(tmp_path_factory.mktemp("cache")))
        for method in ("naive", "tame"):
            seed_everything(0)
            ctx = Context(seed=0, show_progress=False, plugin="continual")
            model = build(method)
            result = tasks["continual/split-digits/class-il"].evaluate(model, ctx)
            out[method] = (model, result)
    return out


def stream(ctx, scenario="class"):
    from benchbed_continual.benchmarks import DIGITS, split_stream

    from benchbed.data.images import load_digits

    return split_stream(load_digits, scenario, DIGITS, ctx)


def trained_at_the_end(model, contexts: int, steps: int = ITERS) -> list[int]:
    """The expert training on the last batch of each context, from the recorded switches."""
    return [owner(model, steps * (t + 1) - 1) for t in range(contexts)]


def owner(model, step: int) -> int:
    """The expert that trained on the stream's batch `step`."""
    last = [expert for onset, expert, _ in model.switches if onset <= step]
    return last[-1] if last else 0


def learned_by(model, t: int, steps: int = ITERS) -> set[int]:
    """The experts that trained on at least a tenth of context t's batches."""
    counts = {}
    for step in range(steps * t, steps * (t + 1)):
        counts[owner(model, step)] = counts.get(owner(model, step), 0) + 1
    return {expert for expert, n in counts.items() if n >= steps / 10}


def routed(model, data, steps: int = ITERS) -> list[float]:
    """Per context, the share of its test images sent to an expert that learned it."""
    import torch

    out = []
    for t in range(5):
        choice = model.route(data.test(t)[0])
        experts = torch.tensor(sorted(learned_by(model, t, steps)))
        out.append(float(torch.isin(choice, experts).float().mean()))
    return out


def test_threshold_and_smoothing_by_hand():
    from benchbed_continual.methods.tame import smooth, threshold

    # mean 2, population sd sqrt(2/3)
    assert threshold([1.0, 2.0, 3.0], 3.0, 0.005) == pytest.approx(2 + 3 * math.sqrt(2 / 3))
    # a flat window: the floor of the standard deviation decides
    assert threshold([0.1, 0.1], 3.0, 0.005) == pytest.approx(0.115)
    assert smooth(None, 5.0, 0.2) == 5.0
    assert smooth(1.0, 2.0, 0.2) == pytest.approx(1.2)


def test_tame_switches_at_the_first_batch_of_every_new_context(class_il):
    model, _ = class_il["tame"]
    onsets = [step for step, _, _ in model.switches]
    assert {ITERS * t for t in range(1, 5)} <= set(onsets)
    # The only other switch allowed is at the very first batch: a fresh 10-output network's
    # loss can exceed log(10) + 3 x 0.005, the threshold of a window holding only log(10).
    assert set(onsets) - {ITERS * t for t in range(1, 5)} <= {0}
    assert len(set(trained_at_the_end(model, 5))) == 5  # one expert per context


def test_tame_beats_naive_in_class_il(class_il):
    naive = class_il["naive"][1].metrics["average_accuracy"].value
    tame = class_il["tame"][1].metrics["average_accuracy"].value
    assert tame > naive + 0.4
    assert class_il["tame"][1].metrics["forgetting"].value < 0.2


def test_the_pruned_selector_routes_test_inputs_to_their_contexts_expert(class_il, ctx):
    model, _ = class_il["tame"]
    data = stream(ctx)
    shares = routed(model, data)
    assert min(shares) > 0.6 and sum(shares) / 5 > 0.8
    weights = [m.weight for m in model.selector if hasattr(m, "weight")]
    zeros = sum(int((w == 0).sum()) for w in weights)
    assert zeros == round(0.5 * sum(w.numel() for w in weights))
    assert model.selector_sparsity == pytest.approx(0.5, abs=1e-6)


def test_the_cell_stores_what_the_detector_did(class_il):
    model, result = class_il["tame"]
    report = result.artifacts["learner"]
    assert report["switches"] == [list(s) for s in model.switches]
    assert report["experts"] == len(model.experts) and report["selector_sparsity"] == 0.5


def test_the_selector_is_refitted_only_after_more_training(ctx, build):
    data = stream(ctx)
    model = build("tame", selector_epochs=2, prune_epochs=1)
    model.prepare(data.setting)
    for t in range(2):
        model.learn(data.train(t))
    x = data.test(0)[0]
    model.predict(x, 0)
    fitted = model.selector
    model.predict(x, 0)
    assert model.selector is fitted
    model.learn(data.train(2))
    model.predict(x, 0)
    assert model.selector is not fitted


def test_the_buffer_is_class_balanced_within_the_benchmark_memory(class_il, tasks, ctx, build):
    model, result = class_il["tame"]
    assert result.artifacts["accuracy_matrix"]["protocol"]["memory"] == 100
    assert [len(r) for r in model.buffer.values()] == [10] * 10
    small = build("tame", memory=30, selector_epochs=2, prune_epochs=1)
    tasks["continual/split-digits/class-il"].evaluate(small, ctx)
    assert [len(r) for r in small.buffer.values()] == [3] * 10


def test_tame_returns_to_an_expert_when_its_context_recurs(ctx, build):
    """Domain-IL: two outputs per expert, as in the authors' code."""
    data = stream(ctx, "domain")
    model = build("tame")
    model.prepare(data.setting)
    for t in (0, 1, 0, 2, 1):
        model.learn(data.train(t))
    assert model.switches == [
        (ITERS, 1, True),
        (2 * ITERS, 0, False),
        (3 * ITERS, 2, True),
        (4 * ITERS, 1, False),
    ]


def test_tame_ignores_the_context_index_and_classes(ctx, build):
    """Training on the same data with the boundary information erased changes nothing."""
    from benchbed_continual.learner import Experience

    data = stream(ctx)
    told = build("tame", selector_epochs=5, prune_epochs=5)
    blind = build("tame", selector_epochs=5, prune_epochs=5)
    told.prepare(data.setting)
    blind.prepare(data.setting)
    for t in range(3):
        experience = data.train(t)
        told.learn(experience)
        blind.learn(Experience(0, experience.x, experience.y, ()))
    assert told.switches == blind.switches and len(told.experts) >= 3
    x = data.test(2)[0]
    assert (told.predict(x, 0) == blind.predict(x, 0)).all()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"window": 1}, "window must be an integer >= 2"),
        ({"smoothing": 0}, r"smoothing must be in \(0, 1\]"),
        ({"sds": 0}, "sds must be > 0"),
        ({"selector_epochs": 0}, "selector_epochs must be a whole number >= 1"),
        ({"prune": 1.0}, r"prune must be a fraction in \[0, 1\)"),
        ({"memory": 0}, "memory must be >= 1"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_error(build, params, message):
    with pytest.raises(BenchbedError, match=message):
        build("tame", **params)


@pytest.mark.slow
def test_tame_switches_at_the_four_context_changes_of_real_split_mnist(ctx, build):
    """Hsu et al.'s protocol (375 steps per context), seed 0."""
    from benchbed_continual.benchmarks import HSU, split_stream

    from benchbed.assets import MissingAsset
    from benchbed.data.images import load_mnist

    try:
        data = split_stream(load_mnist, "class", HSU, ctx)
    except MissingAsset as exc:
        pytest.skip(str(exc))
    model = build("tame")
    model.prepare(data.setting)
    for t in range(5):
        model.learn(data.train(t))
    steps = data.setting.iters
    onsets = {step for step, _, _ in model.switches}
    assert {steps * t for t in range(1, 5)} <= onsets
    assert len(set(trained_at_the_end(model, 5, steps))) == 5
    assert sum(routed(model, data, steps)) / 5 > 0.8
