"""Continual few-shot streams and the instance test: the sampler's structure, the corruptions,
the metrics on hand-made inputs, the three methods on sklearn digits; clip art (slow)."""

import numpy as np
import pytest
from benchbed_continual.fewshot_stream import KIND, METHODS, data
from benchbed_continual.fewshot_stream.corruptions import add_noise, occlude
from benchbed_continual.fewshot_stream.finetune import FineTune
from benchbed_continual.fewshot_stream.protonet import ProtoNet
from benchbed_continual.fewshot_stream.replay import FineTuneReplay
from benchbed_continual.fewshot_stream.sampler import (
    StreamProtocol,
    sample_instance_stream,
    sample_stream,
)
from benchbed_continual.fewshot_stream.task import (
    ContinualFewShotTask,
    InstanceTest,
    StreamSetting,
    accuracy,
)

from benchbed import BenchbedError, Context

# 8 classes named "c0".."c7" with 30 items each: item i belongs to class i // 30
LABELS = np.repeat([f"c{i}" for i in range(8)], 30)
CLASSES = tuple(f"c{i}" for i in range(8))


def _stream(protocol, seed=0):
    return sample_stream(LABELS, CLASSES, protocol, np.random.default_rng(seed))


def test_stream_with_new_classes_every_set():
    p = StreamProtocol(n_support_sets=3, n_way=2, k_shot=3, class_change_interval=1, n_query=4)
    s = _stream(p)
    assert p.n_classes == s.n_classes == 6
    for i, (items, labels) in enumerate(zip(s.support, s.support_labels)):
        assert len(items) == 2 * 3
        assert sorted(set(labels.tolist())) == [2 * i, 2 * i + 1]  # new labels in every set
        # every item's data-set class is the one behind its stream label
        assert [LABELS[j] for j in items] == [s.classes[label] for label in labels]
    assert len(set(s.classes)) == 6  # six distinct data-set classes
    # the target set covers exactly the seen labels, Q items each, none of them support items
    assert sorted(s.target_labels.tolist()) == sorted(list(range(6)) * 4)
    assert [LABELS[j] for j in s.target] == [s.classes[label] for label in s.target_labels]
    everything = np.concatenate([*s.support, s.target])
    assert len(set(everything.tolist())) == len(everything)


def test_class_change_interval_repeats_classes_with_new_instances():
    p = StreamProtocol(n_support_sets=4, n_way=2, k_shot=2, class_change_interval=2, n_query=3)
    s = _stream(p)
    assert s.n_classes == 4
    labels = [sorted(set(ls.tolist())) for ls in s.support_labels]
    assert labels == [[0, 1], [0, 1], [2, 3], [2, 3]]
    # sets 0 and 1 show the same classes through different pictures
    assert not set(s.support[0].tolist()) & set(s.support[1].tolist())
    assert {LABELS[j] for j in s.support[0]} == {LABELS[j] for j in s.support[1]}
    assert not {LABELS[j] for j in s.support[0]} & {LABELS[j] for j in s.support[2]}
    # each class appears in two sets, so it has 2 x Q target items
    assert sorted(s.target_labels.tolist()) == sorted(list(range(4)) * 6)
    assert len(set(np.concatenate([*s.support, s.target]).tolist())) == 4 * 2 * (2 + 3)


def test_streams_are_seeded():
    p = StreamProtocol(3, 2, 1, 1, 2)
    a, b, c = _stream(p, 5), _stream(p, 5), _stream(p, 6)
    assert all(np.array_equal(x, y) for x, y in zip(a.support, b.support))
    assert np.array_equal(a.target, b.target) and a.classes == b.classes
    assert not np.array_equal(np.concatenate(a.support), np.concatenate(c.support))


def test_bad_protocols_are_refused():
    with pytest.raises(BenchbedError, match="must divide"):
        StreamProtocol(3, 2, 1, 2, 1)
    with pytest.raises(BenchbedError, match="needs 10 classes; there are 8"):
        _stream(StreamProtocol(5, 2, 1, 1, 1))
    with pytest.raises(BenchbedError, match="need 40 items per class"):
        _stream(StreamProtocol(2, 2, 10, 2, 10))


def test_instance_stream_labels_each_picture():
    s = sample_instance_stream(LABELS, CLASSES, 10, 2, np.random.default_rng(0))
    pictures = np.concatenate(s.support)
    assert len(set(pictures.tolist())) == 20
    assert len({LABELS[j] for j in pictures}) == 1  # the distractors share the category
    assert [ls.tolist() for ls in s.support_labels] == [[2 * i, 2 * i + 1] for i in range(10)]
    # the target set is the same pictures with the same labels, in another order
    assert dict(zip(s.target.tolist(), s.target_labels.tolist())) == dict(
        zip(pictures.tolist(), np.concatenate(s.support_labels).tolist())
    )
    with pytest.raises(BenchbedError, match="need 40 items per class"):
        sample_instance_stream(LABELS, CLASSES, 20, 2, np.random.default_rng(0))


def test_occlusion_blanks_one_square_in_every_channel():
    images = np.full((50, 6 * 6 * 3), 0.5, dtype=np.float32)  # 6x6 RGB, channel-last
    out = occlude(images, (3, 6, 6), 3, 1.0, np.random.default_rng(0))
    assert images.min() == 0.5  # the input is not changed
    tops = set()
    for flat in out:
        image = flat.reshape(6, 6, 3)
        blank = (image == 1.0).all(axis=2)
        assert (image[~blank] == 0.5).all() and (image == 1.0).sum() == 3 * 3 * 3
        rows, cols = np.nonzero(blank)
        assert rows.max() - rows.min() == 2 and cols.max() - cols.min() == 2  # one 3x3 square
        tops.add(rows.min())
    assert tops == {0, 1, 2, 3}  # placed anywhere it fits
    with pytest.raises(BenchbedError, match="does not fit"):
        occlude(images, (3, 6, 6), 7, 1.0, np.random.default_rng(0))


def test_noise_has_the_stated_sigma_and_stays_in_range():
    images = np.full((200, 64), 0.5, dtype=np.float32)
    noisy = add_noise(images, 0.1, np.random.default_rng(0))
    assert noisy.dtype == np.float32 and abs(float((noisy - 0.5).std()) - 0.1) < 0.005
    assert np.array_equal(add_noise(images, 0.0, np.random.default_rng(0)), images)
    clipped = add_noise(np.ones((10, 64), dtype=np.float32), 0.5, np.random.default_rng(0))
    assert clipped.max() == 1.0 and clipped.min() >= 0.0


def test_accuracy_by_hand():
    assert accuracy([0, 1, 2, 2], [0, 1, 1, 2]) == 0.75
    with pytest.raises(BenchbedError, match="cannot score"):
        accuracy([0, 1], [0, 1, 2])


def test_protonet_accumulates_prototypes_over_support_sets():
    import torch

    model = ProtoNet()
    model.prepare(StreamSetting(n_features=2, n_classes=3, seed=0, device="cpu"))
    model.observe(torch.tensor([[0.0, 0.0], [2.0, 0.0]]), torch.tensor([0, 1]))
    model.observe(torch.tensor([[4.0, 0.0], [2.0, 2.0]]), torch.tensor([0, 1]))
    # prototypes: label 0 at (2, 0), label 1 at (2, 1); label 2 never seen
    queries = torch.tensor([[2.0, -0.1], [2.0, 1.2], [10.0, 10.0]])
    assert model.predict(queries).tolist() == [0, 1, 1]


class _AlwaysZero:
    """Predicts label 0 for everything: its accuracies are known by hand."""

    def prepare(self, setting):
        self.n_classes = setting.n_classes
        return setting

    def observe(self, x, y):
        pass

    def predict(self, x):
        import torch

        return torch.zeros(len(x), dtype=torch.long)


def _digits_task(streams, instance_streams):
    """The digits protocol with few streams, so that a test takes seconds."""
    return ContinualFewShotTask(
        "continual/digits-cfsl/test",
        "digits",
        data.digits,
        StreamProtocol(3, 3, 5, 1, 5),
        InstanceTest(10, 2, occlusion=4, noise=0.3),
        streams,
        instance_streams,
    )


@pytest.fixture
def digits_task():
    return _digits_task(12, 6)


def test_metrics_of_a_constant_model(digits_task, ctx):
    result = digits_task.evaluate(_AlwaysZero(), ctx)
    # 9 labels, 5 targets each in every stream: 1/9; 20 pictures, one labelled 0: 1/20
    assert result.metrics["cfsl_accuracy"].value == pytest.approx(1 / 9)
    assert result.metrics["cfsl_accuracy"].samples == pytest.approx([1 / 9] * 12)
    for condition in ("clean", "occluded", "noisy"):
        score = result.metrics[f"instance_accuracy_{condition}"]
        assert score.value == pytest.approx(1 / 20) and len(score.samples) == 6
    assert result.artifacts["protocol"]["n_support_sets"] == 3


def test_protonet_beats_chance_and_recognises_instances(digits_task, ctx):
    result = digits_task.evaluate(ProtoNet(), ctx)
    m = {k: v.value for k, v in result.metrics.items()}
    assert m["cfsl_accuracy"] > 1 / 9 + 0.5  # 9 classes: chance is 0.11
    assert m["instance_accuracy_clean"] == 1.0  # one prototype per picture: the picture itself
    assert m["instance_accuracy_noisy"] > 0.5 and m["instance_accuracy_occluded"] > 0.3
    again = digits_task.evaluate(ProtoNet(), Context(seed=0, show_progress=False))
    assert again.metrics["cfsl_accuracy"].samples == result.metrics["cfsl_accuracy"].samples


def test_replay_beats_fine_tuning_when_classes_change(ctx):
    """With new classes in every set, plain fine-tuning forgets the earlier sets' classes."""
    task = _digits_task(8, 3)
    plain = task.evaluate(FineTune(), ctx).metrics
    replay = task.evaluate(FineTuneReplay(), ctx).metrics
    assert plain["cfsl_accuracy"].value < 0.5  # about the last set's third of the targets
    assert replay["cfsl_accuracy"].value > plain["cfsl_accuracy"].value + 0.3
    assert plain["instance_accuracy_clean"].value < 0.2  # mostly the last set's 2 of 20
    assert replay["instance_accuracy_clean"].value > 0.9


def test_replay_buffer_holds_at_most_memory(ctx):
    import torch

    model = FineTuneReplay(steps=1, memory=5, replay_batch=3)
    model.prepare(StreamSetting(n_features=4, n_classes=8, seed=0, device="cpu"))
    for i in range(4):
        model.observe(torch.randn(2, 4), torch.tensor([2 * i, 2 * i + 1]))
    assert len(model.buffer) == 5 and model.buffer.seen == 8
    x, y = model.training_data(torch.zeros(2, 4), torch.tensor([0, 1]))
    assert len(x) == len(y) == 2 + 3


def test_bad_parameters_and_split_are_refused(digits_task):
    with pytest.raises(BenchbedError, match="lr > 0"):
        FineTune(lr=0.0)
    with pytest.raises(BenchbedError, match="memory and replay_batch"):
        FineTuneReplay(memory=0)
    with pytest.raises(BenchbedError, match="only a 'test' split"):
        digits_task.evaluate(ProtoNet(), Context(seed=0, split="validation"))


def test_registered(tasks, build):
    from benchbed_continual.plugin import benchbed_metrics, benchbed_models

    models = {m.name: m for m in benchbed_models()}
    for name in METHODS:
        assert models[name].kinds == (KIND.name,)
        assert not KIND.missing(models[name].factory(**models[name].defaults))
    metrics = {m.name for m in benchbed_metrics()}
    assert {"cfsl_accuracy", "instance_accuracy_occluded"} <= metrics
    assert {
        "continual/clipart-cfsl/nss3-cci1-5way-1shot",
        "continual/clipart-cfsl/nss4-cci2-5way-1shot",
        "continual/digits-cfsl/nss3-cci1-3way-5shot",
    } <= set(tasks)


@pytest.mark.slow
def test_clipart_streams():
    """Real clip art with the cached backbone (trained on first use: minutes)."""
    from benchbed.data.clipart import ROOT

    if not ROOT.exists():
        pytest.skip("install it with: sudo apt-get install openclipart-png")
    ctx = Context(seed=0, show_progress=False, plugin="continual")
    loaded = data.clipart(ctx)
    assert loaded.info["classes"] == 15 and loaded.features.shape == (loaded.info["items"], 256)
    task = ContinualFewShotTask(
        "clipart",
        "clip art",
        lambda ctx: loaded,
        StreamProtocol(3, 5, 1, 1, 5),
        InstanceTest(10, 2, occlusion=16, noise=0.1),
        streams=50,
        instance_streams=20,
    )
    m = {k: v.value for k, v in task.evaluate(ProtoNet(), ctx).metrics.items()}
    assert m["cfsl_accuracy"] > 1 / 15 + 0.1  # 15 classes: chance is 0.067
    assert m["instance_accuracy_clean"] > 0.95
