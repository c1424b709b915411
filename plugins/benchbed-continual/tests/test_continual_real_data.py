"""Real MNIST and Fashion-MNIST (slow: needs the data packages; skipped without them)."""

import pytest

from benchbed.assets import MissingAsset

pytestmark = pytest.mark.slow


def load_or_skip(loader, split):
    try:
        return loader(split)
    except MissingAsset as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("name", ["load_mnist", "load_fashion_mnist"])
def test_standard_splits(name):
    from benchbed.data import images

    x, y = load_or_skip(getattr(images, name), "train")
    xt, yt = load_or_skip(getattr(images, name), "test")
    assert x.shape == (60000, 784) and xt.shape == (10000, 784)
    assert x.dtype.name == "float32" and y.dtype.name == "int64"
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert sorted(set(y.tolist())) == list(range(10))


def test_replay_beats_naive_on_split_mnist_class_il(tasks, ctx, build):

    from benchbed.data.images import load_mnist

    load_or_skip(load_mnist, "test")
    task = tasks["continual/split-mnist/class-il"]
    # A shortened protocol (100 steps per context) keeps this to about a minute.
    naive = task.evaluate(build("naive", iters=100), ctx).metrics["average_accuracy"].value
    replay = task.evaluate(build("replay", iters=100), ctx).metrics["average_accuracy"].value
    assert naive < 0.25 and replay > naive + 0.4


def test_split_fashion_mnist_runs(tasks, ctx, build):
    from benchbed.data.images import load_fashion_mnist

    load_or_skip(load_fashion_mnist, "test")
    result = tasks["continual/split-fashion-mnist/class-il"].evaluate(
        build("naive", iters=100), ctx
    )
    R = result.artifacts["accuracy_matrix"]["R"]
    # Each context is learnt when it is trained, and naive class-IL forgets it afterwards.
    assert len(R) == 5 and sum(R[i][i] for i in range(5)) / 5 > 0.8
    assert result.metrics["forgetting"].value > 0.5


def test_permuted_mnist_contexts_share_labels_and_differ_in_pixels(ctx):
    import torch
    from benchbed_continual.benchmarks import PERMUTED, permuted_stream
    from benchbed_continual.methods.naive import Naive

    from benchbed.data.images import load_mnist

    load_or_skip(load_mnist, "test")
    stream = permuted_stream(load_mnist, PERMUTED, ctx)
    assert stream.setting.n_contexts == 10 and stream.setting.hidden == 1000
    assert stream.setting.iters == 5000 and stream.setting.lr == 1e-4
    (x0, y0), (x1, y1) = stream.test(0), stream.test(1)
    assert torch.equal(y0, y1) and not torch.equal(x0, x1)
    assert torch.allclose(x0.sum(1), x1.sum(1))  # the same images, pixels moved
    learner = Naive(iters=30)
    learner.prepare(stream.setting)
    learner.learn(stream.train(0))
    assert float((learner.predict(x0, 0) == y0).float().mean()) > 0.5


def test_the_agem_protocol_standardises_pixels_and_trains_with_sgd(ctx):
    import torch
    from benchbed_continual.benchmarks import AGEM_PERMUTED, MNIST_MEAN_STD, permuted_stream

    from benchbed.data.images import load_mnist

    raw = torch.as_tensor(load_or_skip(load_mnist, "test")[0])
    stream = permuted_stream(load_mnist, AGEM_PERMUTED, ctx, contexts=17, standardize=(0.1, 0.5))
    setting = stream.setting
    assert (setting.n_contexts, setting.hidden, setting.batch_size) == (17, 256, 10)
    assert setting.single_pass and setting.optimizer == "sgd" and setting.memory_per_context == 250
    x0, _ = stream.test(0)
    assert torch.allclose(x0.sum(1), ((raw - 0.1) / 0.5).sum(1), atol=1e-3)
    assert MNIST_MEAN_STD == (0.1307, 0.3081)  # torchvision's, which Avalanche uses
