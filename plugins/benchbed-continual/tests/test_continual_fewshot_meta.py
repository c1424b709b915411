"""Meta-learned continual few-shot baselines: the task's meta-training hook, MAML++ and SCA on
sklearn digits and on a synthetic data set whose base and novel classes are known."""

import numpy as np
import pytest
import torch
from benchbed_continual.fewshot_stream import KIND, METHODS, data
from benchbed_continual.fewshot_stream.maml import MAMLPlusPlus, msl_weights
from benchbed_continual.fewshot_stream.protonet import ProtoNet
from benchbed_continual.fewshot_stream.sampler import StreamProtocol
from benchbed_continual.fewshot_stream.sca import SelfCritiqueAdapt
from benchbed_continual.fewshot_stream.task import (
    ContinualFewShotTask,
    InstanceTest,
    MetaTrainSource,
    StreamSetting,
)

from benchbed import BenchbedError, Context

DIGITS = StreamProtocol(3, 3, 5, 1, 5)


def _digits_task(streams=30, instance_streams=4):
    return ContinualFewShotTask(
        "continual/digits-cfsl/test",
        "digits",
        data.digits,
        DIGITS,
        InstanceTest(10, 2, occlusion=4, noise=0.3),
        streams,
        instance_streams,
    )


def _digits_source(seed=0):
    d = data.digits(None)
    features = torch.as_tensor(d.base_features)
    return MetaTrainSource(
        features, d.base_labels, d.base_classes, DIGITS, np.random.default_rng([seed, 3])
    )


def _setting(seed=0, n_classes=9):
    return StreamSetting(n_features=64, n_classes=n_classes, seed=seed, device="cpu")


def test_meta_training_beats_the_same_head_untrained(ctx):
    """Held-out evaluation streams, same seeds: only the meta-training differs."""
    task = _digits_task(30, 2)
    untrained = task.evaluate(MAMLPlusPlus(meta_iterations=0), ctx).metrics["cfsl_accuracy"]
    trained = task.evaluate(MAMLPlusPlus(meta_iterations=60), ctx).metrics["cfsl_accuracy"]
    assert trained.value > untrained.value + 0.08
    # paired over the same streams: better on most of them
    better = np.greater(trained.samples, untrained.samples).sum()
    assert better > np.less(trained.samples, untrained.samples).sum()


def test_lslr_rates_are_meta_parameters_that_learn():
    model = MAMLPlusPlus(meta_iterations=20, steps=3, inner_lr=0.05)
    model.meta_train(_digits_source(), _setting())
    rates = model.learning_rates
    assert rates.shape == (4, 3) and rates.requires_grad  # per tensor and per step
    assert any(rates is p for p in model.meta_parameters())
    assert (rates.detach() - 0.05).abs().max() > 1e-3  # moved away from their initial value
    # and the cosine schedule took the meta learning rate down from meta_lr
    lrs = [h["meta_lr"] for h in model.history]
    assert lrs[0] == pytest.approx(0.001) and lrs[-1] < lrs[1] < lrs[0]


def test_derivative_order_switches_at_the_stated_iteration(monkeypatch):
    model = MAMLPlusPlus(meta_iterations=12, first_order_fraction=0.25, msl_fraction=0.5)
    assert model.second_order_from == 3 and model.msl_iterations == 6
    orders = []
    step = MAMLPlusPlus.step

    def spy(self, params, loss, j, create_graph):
        orders.append((len(self.history), create_graph))
        return step(self, params, loss, j, create_graph)

    monkeypatch.setattr(MAMLPlusPlus, "step", spy)
    model.meta_train(_digits_source(), _setting())
    by_iteration = {}
    for iteration, create_graph in orders:
        by_iteration.setdefault(iteration, set()).add(create_graph)
    assert by_iteration == {i: {i >= 3} for i in range(12)}
    assert [h["second_order"] for h in model.history] == [i >= 3 for i in range(12)]
    assert [h["multi_step_loss"] for h in model.history] == [i < 6 for i in range(12)]


def test_multi_step_loss_weights_anneal_to_the_final_step():
    first = msl_weights(5, 0, 10)
    assert first.tolist() == pytest.approx([0.2] * 5)
    late = msl_weights(5, 10, 10)
    assert late[:-1].tolist() == pytest.approx([0.03 / 5] * 4)
    assert late[-1] == pytest.approx(1 - 4 * 0.03 / 5)
    middle = msl_weights(5, 5, 10)
    assert late[-1] > middle[-1] > first[-1] and middle.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("method", [MAMLPlusPlus, SelfCritiqueAdapt])
def test_same_seed_same_predictions(method):
    task = _digits_task(6, 2)
    runs = [
        task.evaluate(method(meta_iterations=5), Context(seed=3, show_progress=False)).metrics
        for _ in range(2)
    ]
    for name in runs[0]:
        assert runs[0][name].samples == runs[1][name].samples
    other = task.evaluate(method(meta_iterations=5), Context(seed=4, show_progress=False))
    assert other.metrics["cfsl_accuracy"].samples != runs[0]["cfsl_accuracy"].samples


def _observed_stream(model, seed=0):
    """A meta-trained model after one held-out digits stream; returns the target set."""
    source = _digits_source(seed + 100)
    stream = source.sample()
    model.prepare(_setting(seed, stream.n_classes))
    for x, y in stream.support:
        model.observe(x, y)
    return stream.target


def test_sca_critic_changes_predictions_and_keeps_post_stream_weights():
    model = SelfCritiqueAdapt(meta_iterations=40)
    model.meta_train(_digits_source(), _setting())
    changed = 0
    for seed in range(5):
        x, _ = _observed_stream(model, seed)
        before = [p.clone() for p in model.params]
        plain = model.logits(model.params, x, model.seen)
        adapted = model.logits(model.adapted(x), x, model.seen)
        assert (plain - adapted).abs().max() > 1e-3  # the critic's step moved the head
        changed += int((plain.argmax(1) != adapted.argmax(1)).sum())
        first = model.predict(x)
        # a second call on other inputs (the instance test's corrupted copies) ...
        model.predict(x + 0.5 * torch.randn_like(x))
        # ... leaves the post-stream weights, and so the first call's answer, as they were
        assert all(torch.equal(a, b) for a, b in zip(before, model.params))
        assert torch.equal(model.predict(x), first)
        assert torch.equal(first, adapted.argmax(1))
    assert changed > 0


def test_untrained_critic_changes_nothing():
    """Its last layer starts at zero: before meta-training SCA predicts as MAML++ does."""
    model = SelfCritiqueAdapt(meta_iterations=0)
    model.meta_train(_digits_source(), _setting())
    x, _ = _observed_stream(model)
    plain = model.logits(model.params, x, model.seen)
    assert torch.allclose(model.logits(model.adapted(x), x, model.seen), plain)


def test_output_layer_is_one_shared_row_for_any_number_of_labels():
    model = MAMLPlusPlus(meta_iterations=3)
    model.meta_train(_digits_source(), _setting())
    for n in (9, 20):
        model.prepare(_setting(0, n))
        w2, b2 = model.params[2:]
        assert w2.shape == (n, model.hidden) and (w2 == w2[0]).all() and (b2 == b2[0]).all()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"meta_iterations": -1}, "meta_iterations must be >= 0"),
        ({"steps": 0}, "steps and hidden must be >= 1"),
        ({"meta_lr": 0.0}, "meta_lr and inner_lr must be > 0"),
        ({"first_order_fraction": 1.5}, r"must lie in \[0, 1\]"),
    ],
)
def test_bad_parameters_are_refused(params, message):
    with pytest.raises(BenchbedError, match=message):
        MAMLPlusPlus(**params)
    with pytest.raises(BenchbedError, match=message):
        SelfCritiqueAdapt(**params)


def test_bad_critic_parameters_are_refused():
    with pytest.raises(BenchbedError, match="critic_steps and critic_hidden >= 1"):
        SelfCritiqueAdapt(critic_steps=0)


class _Spy(ProtoNet):
    """A prototype learner that records what meta_train is given."""

    def meta_train(self, source, setting):
        self.calls = getattr(self, "calls", 0) + 1
        self.setting = setting
        self.source_classes = set(source.classes)
        self.source_labels = set(np.asarray(source.labels).tolist())
        self.features = source.features
        self.drawn = set()
        for _ in range(20):
            stream = source.sample()
            self.drawn |= set(stream.index.classes)
            assert stream.n_classes == source.protocol.n_classes
            for x, y in stream.support:
                assert len(x) == len(y)


def _synthetic(ctx):
    """6 novel classes (labels 0-5) and 6 base ones (10-15), 12 items each, 4-d features
    that name their class, so any novel item reaching meta_train shows."""
    rng = np.random.default_rng(0)
    novel = np.repeat(np.arange(6), 12)
    base = np.repeat(np.arange(10, 16), 12)

    def images(labels):
        return np.column_stack([labels, rng.random((len(labels), 3))]).astype(np.float32)

    return data.StreamData(
        images(novel),
        novel,
        tuple(range(6)),
        (1, 2, 2),
        0.0,
        lambda pictures: np.asarray(pictures, dtype=np.float32),
        {},
        base_images=images(base),
        base_labels=base,
        base_classes=tuple(range(10, 16)),
    )


def test_task_meta_trains_only_models_that_ask_and_only_on_base_classes(ctx):
    task = ContinualFewShotTask(
        "synthetic",
        "synthetic",
        _synthetic,
        StreamProtocol(2, 2, 1, 1, 2),
        InstanceTest(2, 2, occlusion=1, noise=0.1),
        streams=5,
        instance_streams=2,
    )
    spy = _Spy()
    spied = task.evaluate(spy, ctx)
    assert spy.calls == 1 and spy.setting.n_classes == 4 and spy.setting.n_features == 4
    assert spy.source_classes == spy.source_labels == spy.drawn == set(range(10, 16))
    assert set(spy.features[:, 0].tolist()) <= set(range(10, 16))  # base items only
    phases = [r.phase for r in ctx.timer.records]
    assert phases.count("meta-train") == 1

    plain_ctx = Context(seed=0, show_progress=False)
    plain = task.evaluate(ProtoNet(), plain_ctx)
    assert "meta-train" not in [r.phase for r in plain_ctx.timer.records]
    # meta-training draws from its own random stream: the evaluation streams are unchanged
    for name, score in plain.metrics.items():
        assert spied.metrics[name].samples == score.samples


def test_digits_base_data_is_the_evaluation_data():
    d = data.digits(None)
    assert d.base_classes == d.classes and np.array_equal(d.base_features, d.features)


def test_registered():
    from benchbed_continual.plugin import benchbed_models

    models = {m.name: m for m in benchbed_models()}
    for name in ("cfsl-maml++", "cfsl-sca"):
        assert name in METHODS and models[name].kinds == (KIND.name,)
        model = models[name].factory(**models[name].defaults)
        assert not KIND.missing(model) and callable(model.meta_train)


@pytest.mark.slow
def test_clipart_base_classes_are_disjoint_from_the_novel_ones():
    from benchbed.data.clipart import ROOT

    if not ROOT.exists():
        pytest.skip("install it with: sudo apt-get install openclipart-png")
    loaded = data.clipart(Context(seed=0, show_progress=False, plugin="continual"))
    assert len(loaded.base_classes) == 48 and not set(loaded.base_classes) & set(loaded.classes)
    assert set(loaded.base_labels.tolist()) == set(loaded.base_classes)
    assert loaded.base_features.shape == (loaded.info["base_items"], 256)
