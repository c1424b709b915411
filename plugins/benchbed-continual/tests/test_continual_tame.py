"""TAME on Split-Digits: it finds the context switches from the loss alone, spawns one
expert per new context, returns to an old expert when its context recurs, and its selector
routes test inputs to the right expert."""

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


def test_tame_detects_every_switch_and_spawns_one_expert_per_context(class_il):
    model, _ = class_il["tame"]
    # Onsets at the first batch of contexts 1..4, found after `patience` suspect batches.
    assert [onset for onset, _, _ in model.switches] == [ITERS * t for t in range(1, 5)]
    assert [expert for _, expert, _ in model.switches] == [1, 2, 3, 4]
    assert all(spawned for _, _, spawned in model.switches)
    assert len(model.experts) == 5


def test_tame_beats_naive_in_class_il(class_il):
    naive = class_il["naive"][1].metrics["average_accuracy"].value
    tame = class_il["tame"][1].metrics["average_accuracy"].value
    assert tame > naive + 0.4
    assert class_il["tame"][1].metrics["forgetting"].value < 0.2


def test_the_selector_routes_test_inputs_to_their_contexts_expert(class_il, ctx):
    model, _ = class_il["tame"]
    data = stream(ctx)
    routed = [float((model.route(data.test(t)[0]) == t).float().mean()) for t in range(5)]
    assert min(routed) > 0.6 and sum(routed) / 5 > 0.8


def test_the_buffer_counts_against_the_benchmark_memory(class_il, tasks, ctx, build):
    model, result = class_il["tame"]
    assert model.buffer.size == result.artifacts["accuracy_matrix"]["protocol"]["memory"] == 100
    assert len(model.buffer) == 100
    small = build("tame", memory=30)
    tasks["continual/split-digits/class-il"].evaluate(small, ctx)
    assert small.buffer.size == 30 and len(small.buffer) == 30


def test_tame_returns_to_an_expert_when_its_context_recurs(ctx, build):
    data = stream(ctx)
    model = build("tame")
    model.prepare(data.setting)
    for t in (0, 1, 0):
        model.learn(data.train(t))
    assert model.switches == [(ITERS, 1, True), (2 * ITERS, 0, False)]
    assert len(model.experts) == 2


def test_tame_ignores_the_context_index_and_classes(ctx, build):
    """Training on the same data with the boundary information erased changes nothing."""
    from benchbed_continual.learner import Experience

    data = stream(ctx)
    told, blind = build("tame"), build("tame")
    told.prepare(data.setting)
    blind.prepare(data.setting)
    for t in range(3):
        experience = data.train(t)
        told.learn(experience)
        blind.learn(Experience(0, experience.x, experience.y, ()))
    assert told.switches == blind.switches and len(told.switches) == 2
    x = data.test(2)[0]
    assert (told.predict(x, 0) == blind.predict(x, 0)).all()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"threshold": 0}, "threshold must be > 0"),
        ({"window": 1}, "window must be an integer >= 2"),
        ({"patience": 0}, "patience must be an integer >= 1"),
        ({"memory": 0}, "memory must be >= 1"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_error(build, params, message):
    with pytest.raises(BenchbedError, match=message):
        build("tame", **params)


@pytest.mark.slow
def test_tame_finds_the_four_switches_of_real_split_mnist(ctx, build):
    """Hsu et al.'s protocol (375 steps per context), seed 0: no false alarm in 1875 steps."""
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
    assert model.switches == [(steps * t, t, True) for t in range(1, 5)]
    routed = [float((model.route(data.test(t)[0]) == t).float().mean()) for t in range(5)]
    assert sum(routed) / 5 > 0.8
