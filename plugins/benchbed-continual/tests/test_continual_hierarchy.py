"""Hierarchical label expansion: the hierarchy, the stream, the two-level accuracies, the
pseudo-labelling rule and the memory of hle-replay, and what hle-replay must beat."""

import numpy as np
import pytest

from benchbed import BenchbedError


def test_fashion_hierarchy():
    from benchbed_continual.hierarchy import FASHION

    assert FASHION.coarse_names == ("tops", "bottoms", "footwear", "bags")
    # T-shirt/top, Pullover, Dress, Coat, Shirt | Trouser | Sandal, Sneaker, Ankle boot | Bag
    assert [FASHION.children(k) for k in range(4)] == [(0, 2, 3, 4, 6), (1,), (5, 7, 9), (8,)]
    assert FASHION.parent_units() == (10, 11, 10, 10, 10, 12, 10, 12, 13, 12)


def test_a_hierarchy_with_an_empty_or_unknown_coarse_class_is_refused():
    from benchbed_continual.hierarchy import Hierarchy

    with pytest.raises(ValueError, match="coarse class"):
        Hierarchy(coarse_names=("a", "b", "c"), parent=(0, 0, 1, 1))
    with pytest.raises(ValueError, match="coarse class"):
        Hierarchy(coarse_names=("a",), parent=(0, 1))


def fake_load(split):
    """100 (train) or 20 (test) one-pixel images; image i shows i, its label is i % 10."""
    n = 100 if split == "train" else 20
    return np.arange(n, dtype=np.float32)[:, None], np.arange(n) % 10


def stream(labelling, ctx):
    from benchbed_continual.benchmarks import Protocol
    from benchbed_continual.hierarchy import FASHION, hle_stream

    return hle_stream(fake_load, FASHION, labelling, Protocol(batch_size=5, memory=10), ctx)


@pytest.mark.parametrize("labelling", ["single-label", "dual-label"])
def test_the_stream_brings_the_coarse_classes_first_then_the_fine_ones(labelling, ctx):
    from benchbed_continual.hierarchy import FASHION, FINE_CONTEXTS

    s = stream(labelling, ctx)
    first, *fine = s.contexts
    ids = lambda e: e.x[:, 0].long().tolist()  # noqa: E731 - image i is its own id
    # Context 0: only coarse units, each image labelled with its fine class's parent.
    assert first.classes == (10, 11, 12, 13)
    assert first.y.tolist() == [10 + FASHION.parent[i % 10] for i in ids(first)]
    # Then the fine classes, two at a time, each image with its own fine label.
    assert [e.classes for e in fine] == list(FINE_CONTEXTS)
    for e, classes in zip(fine, FINE_CONTEXTS):
        assert e.y.tolist() == [i % 10 for i in ids(e)]
        assert set(e.y.tolist()) == set(classes)
    coarse_ids, fine_ids = set(ids(first)), {i for e in fine for i in ids(e)}
    if labelling == "single-label":  # each image once: half of each class coarse, half fine
        assert coarse_ids.isdisjoint(fine_ids) and coarse_ids | fine_ids == set(range(100))
        assert len(coarse_ids) == len(fine_ids) == 50
    else:  # every image twice: coarse first, then fine
        assert coarse_ids == fine_ids == set(range(100))
    # One softmax per level: context 0 uses the coarse units, the others the fine units.
    masks = s.setting.masks
    assert masks[0].tolist() == [False] * 10 + [True] * 4
    assert all(row.tolist() == [True] * 10 + [False] * 4 for row in masks[1:])
    assert s.setting.parents == FASHION.parent_units()


def test_an_unknown_labelling_is_refused(ctx):
    with pytest.raises(ValueError, match="labelling"):
        stream("triple-label", ctx)


def test_two_level_accuracies_of_hand_made_predictions():
    from benchbed_continual.hierarchy import FASHION, level_accuracies

    fine_labels = [0, 3, 5, 8]  # T-shirt (tops), Dress (tops), Sandal (footwear), Bag (bags)
    pred_fine = [0, 4, 7, 8]  # right, Coat, Sneaker, right
    pred_coarse = [0, 0, 2, 1]  # tops, tops, footwear, bottoms
    assert level_accuracies(pred_coarse, pred_fine, fine_labels, FASHION) == (0.75, 0.5)
    # Fine accuracy only over the fine classes seen so far; none seen: no fine accuracy.
    assert level_accuracies(pred_coarse, pred_fine, fine_labels, FASHION, {0, 3}) == (0.75, 0.5)
    assert level_accuracies(pred_coarse, pred_fine, fine_labels, FASHION, {5}) == (0.75, 0.0)
    assert level_accuracies(pred_coarse, pred_fine, fine_labels, FASHION, {9}) == (0.75, None)
    with pytest.raises(ValueError, match="one length"):
        level_accuracies([0], pred_fine, fine_labels, FASHION)


def test_pseudo_labels_follow_the_hierarchy():
    import torch
    from benchbed_continual.methods.hle_replay import IGNORE, hierarchy_targets

    # Fine units 0, 1 belong to coarse unit 4; fine units 2, 3 to coarse unit 5.
    parents = torch.tensor([4, 4, 5, 5])
    labels = torch.tensor([1, 4, 5, 5])
    logits = torch.tensor(
        [
            [0.0, 0.0, 9.0, 0.0],  # fine label 1: keeps it, gets its parent 4
            [0.1, 0.9, 5.0, 0.0],  # coarse 4: best child of 4 is 1 (2 is not a child)
            [9.0, 0.0, 1.0, 3.0],  # coarse 5: 3 is unseen, so its seen child 2
            [0.0, 0.0, 1.0, 2.0],
        ]
    )
    seen = torch.tensor([True, True, True, False])
    coarse, fine = hierarchy_targets(labels, logits, parents, seen)
    assert coarse.tolist() == [4, 4, 5, 5]
    assert fine.tolist() == [1, 1, 2, 2]
    # Before any child of a coarse class is seen, its examples get no fine label.
    _, fine = hierarchy_targets(labels, logits, parents, torch.tensor([True, True, False, False]))
    assert fine.tolist() == [1, 1, IGNORE, IGNORE]


def test_the_memory_evicts_from_the_largest_class_counting_pseudo_labels():
    import torch
    from benchbed_continual.methods.hle_replay import ClassBalancedMemory

    F, outputs = 4, 6
    memory = ClassBalancedMemory(4, torch.Generator().manual_seed(0))
    x = torch.arange(5, dtype=torch.float32)[:, None]
    memory.add(x[:4], torch.tensor([0, 0, 0, 1]), F, outputs)
    memory.add(x[4:], torch.tensor([1]), F, outputs)  # class 0 has 3, class 1 would have 2
    assert sorted(memory.y.tolist()) == [0, 0, 1, 1]
    assert 4.0 in memory.x[:, 0].tolist()
    # Two coarse examples (unit 4) pseudo-labelled as fine class 1: class 1 now counts 4.
    memory.y[:2] = 4
    memory.pseudo[:2] = 1
    assert sorted(memory.keys(F).tolist()) == [1, 1, 1, 1]
    memory.add(torch.tensor([[9.0]]), torch.tensor([2]), F, outputs)
    assert sorted(memory.keys(F).tolist()) == [1, 1, 1, 2]


def test_hle_replay_refuses_a_task_without_a_hierarchy(tasks, ctx, build):
    with pytest.raises(BenchbedError, match="hierarchical task"):
        tasks["continual/split-digits/class-il"].evaluate(build("hle-replay"), ctx)


@pytest.fixture(scope="module")
def toy(tasks, build, tmp_path_factory):
    """The toy digits HLE task (parity hierarchy, dual-label), seed 0, per method."""
    from benchbed import Context, seed_everything

    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BENCHBED_CACHE", str(tmp_path_factory.mktemp("cache")))
        for method in ("naive", "replay", "hle-replay"):
            seed_everything(0)
            ctx = Context(seed=0, show_progress=False, plugin="continual")
            out[method] = tasks["continual/hle-digits-toy/dual-label"].evaluate(build(method), ctx)
    return out


def test_the_fine_curve_starts_after_the_coarse_context(toy):
    curve = toy["naive"].artifacts["accuracy_curve"]
    protocol = toy["naive"].artifacts["protocol"]
    steps_coarse = 1347 // protocol["batch_size"]  # the 1347 training digits, coarse-labelled
    assert len(curve["coarse"]) - len(curve["fine"]) == steps_coarse // curve["every"]
    assert protocol["labelling"] == "dual-label" and protocol["single_pass"]


def test_hle_replay_beats_naive_at_the_fine_level(toy):
    value = lambda m, k: toy[m].metrics[k].value  # noqa: E731
    assert value("hle-replay", "a_last_fine") > value("naive", "a_last_fine") + 0.2
    assert value("hle-replay", "a_auc_fine") > value("naive", "a_auc_fine") + 0.05
    assert value("hle-replay", "a_last_coarse") > value("naive", "a_last_coarse")


def test_hle_replay_beats_reservoir_replay_at_the_fine_level(toy):
    # Same budget (100 images). Seeds 0, 1, 2 give +3.8, +3.6, +4.5 points here; on this toy
    # hierarchy the class-balanced memory, not the pseudo-labels, makes the difference (README).
    fine = lambda m: toy[m].metrics["a_last_fine"].value  # noqa: E731
    assert fine("hle-replay") > fine("replay") + 0.02


def test_pseudo_labels_must_be_a_boolean(build):
    with pytest.raises(BenchbedError, match="true or false"):
        build("hle-replay", pseudo_labels="False")


@pytest.mark.slow
@pytest.mark.parametrize(
    "labelling,coarse,fine", [("single-label", 30000, 6000), ("dual-label", 60000, 12000)]
)
def test_fashion_mnist_hle_streams(tasks, ctx, labelling, coarse, fine):
    from benchbed.assets import MissingAsset

    try:
        s = tasks[f"continual/hle-fashion-mnist/{labelling}"].stream(ctx)
    except MissingAsset as exc:
        pytest.skip(str(exc))
    assert [len(e.y) for e in s.contexts] == [coarse] + [fine] * 5
    # 6000 training images per class: tops (5 classes) are 5/10 of the coarse context.
    assert (s.contexts[0].y == 10).float().mean().item() == pytest.approx(0.5)
    assert len(s.test_fine) == 10000
