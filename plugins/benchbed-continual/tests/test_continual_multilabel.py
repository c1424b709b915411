"""Multi-label class-incremental learning: the metrics on hand-made scores, the mosaics and
the MLCIL stream on hand-made items, and the methods on the tiny digits mosaic task."""

import numpy as np
import pytest
from benchbed_continual.multilabel import data as D
from benchbed_continual.multilabel import metrics as M

DIGITS_TASK = "continual/digits-mosaic-multilabel/class-il"

# Four images, three labels. Predicted above 0.8: row 0 -> {0, 1}, row 1 -> {0, 2},
# row 2 -> {1}, row 3 -> {1, 2}.
SCORES = np.array([[0.9, 0.85, 0.1], [0.95, 0.2, 0.9], [0.3, 0.81, 0.5], [0.7, 0.9, 0.95]])
TARGETS = np.array([[1, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1]])


def test_average_precision_is_the_mean_precision_at_the_positives():
    # ranks of the positives 1, 3, 5: precisions 1/1, 2/3, 3/5
    ap = M.average_precision([0.9, 0.8, 0.7, 0.6, 0.5], [1, 0, 1, 0, 1])
    assert ap == pytest.approx((1 + 2 / 3 + 3 / 5) / 3)


def test_tied_scores_enter_together():
    # the positive is tied with a negative: both enter at once, precision 1/3 at recall 1
    assert M.average_precision([0.9, 0.5, 0.5], [0, 1, 0]) == pytest.approx(1 / 3)


def test_map_averages_the_labels_with_a_positive():
    scores = np.array(
        [[0.9, 0.1, 0.3], [0.8, 0.2, 0.3], [0.7, 0.3, 0.3], [0.6, 0.4, 0.3], [0.5, 0.5, 0.3]]
    )
    targets = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 0], [0, 0, 0], [1, 0, 0]])
    # label 0: 34/45 as above; label 1: positives at ranks 4 and 5 -> (1/4 + 2/5) / 2;
    # label 2 has no positive and is left out
    assert M.average_precisions(scores, targets) == pytest.approx([34 / 45, 0.325])
    assert M.mean_average_precision(scores, targets) == pytest.approx((34 / 45 + 0.325) / 2)


def test_average_precision_matches_scikit_learn_with_ties():
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(0)
    scores = rng.integers(0, 6, size=(60, 4)) / 5  # many ties
    targets = rng.integers(0, 2, size=(60, 4))
    expected = [average_precision_score(targets[:, c], scores[:, c]) for c in range(4)]
    assert M.average_precisions(scores, targets) == pytest.approx(expected)


def test_class_f1_is_the_f1_of_label_averaged_precision_and_recall():
    # label 0: TP 1 of 2 predicted, 3 positive; label 1: TP 2 of 3, 2 positive; label 2: 2, 2, 2
    cp = (1 / 2 + 2 / 3 + 1) / 3
    cr = (1 / 3 + 1 + 1) / 3
    assert M.class_f1(SCORES, TARGETS) == pytest.approx(2 * cp * cr / (cp + cr))
    # not the mean of the per-label F1s (0.4, 0.8, 1.0)
    assert M.class_f1(SCORES, TARGETS) != pytest.approx((0.4 + 0.8 + 1.0) / 3)


def test_overall_f1_pools_all_labels():
    # TP 5 of 7 predicted, 7 positive: OP = OR = 5/7
    assert M.overall_f1(SCORES, TARGETS) == pytest.approx(5 / 7)


def test_f1_threshold_and_labels_never_predicted():
    # threshold 0: every label predicted; CP = (3/4 + 2/4 + 2/4) / 3 = 7/12, CR = 1
    assert M.class_f1(SCORES, TARGETS, threshold=0.0) == pytest.approx(14 / 19)
    assert M.overall_f1(SCORES, TARGETS, threshold=0.0) == pytest.approx(14 / 19)
    # nothing above the threshold: precision counts as 0, so both F1s are 0
    assert M.class_f1(SCORES, TARGETS, threshold=0.99) == 0.0
    assert M.overall_f1(SCORES, TARGETS, threshold=0.99) == 0.0


@pytest.mark.parametrize(
    "scores, targets, message",
    [
        (np.zeros((3, 2)), np.zeros((3, 3)), "same shape"),
        (np.zeros(3), np.zeros(3), "same shape"),
        (np.zeros((2, 2)), np.array([[0, 2], [1, 0]]), "0 or 1"),
    ],
)
def test_bad_inputs_get_a_clear_error(scores, targets, message):
    with pytest.raises(ValueError, match=message):
        M.class_f1(scores, targets)


def test_map_needs_a_positive():
    with pytest.raises(ValueError, match="positive"):
        M.mean_average_precision(np.zeros((3, 2)), np.zeros((3, 2)))


# -- mosaics and the stream -----------------------------------------------------------------


def test_a_mosaic_shows_its_items_and_carries_exactly_their_labels():
    # four 4x4 items, each a constant (its index + 1), downsampled to 2x2
    x = np.stack([np.full(16, i + 1.0, dtype=np.float32) for i in range(4)])
    y = np.array([5, 7, 5, 2])
    spec = D.MosaicSpec(classes=(2, 5, 7, 9), item_shape=(4, 4), factor=2)
    cells = np.array([[0, 1, 2, 3], [3, 3, 3, 3]])
    images = D.compose(D.downsample(x, spec.item_shape, spec.factor), cells, spec.grid)
    first = images[0].reshape(4, 4)
    assert first[:2, :2].tolist() == [[1, 1], [1, 1]]  # item 0 top left
    assert first[:2, 2:].tolist() == [[2, 2], [2, 2]]  # item 1 top right
    assert first[2:, :2].tolist() == [[3, 3], [3, 3]]  # item 2 bottom left
    assert first[2:, 2:].tolist() == [[4, 4], [4, 4]]  # item 3 bottom right
    assert (images[1] == 4).all()
    labels = D.label_sets(y, cells, spec.classes)
    assert labels.tolist() == [[1, 1, 1, 0], [1, 0, 0, 0]]  # {2, 5, 7} and {2}


def test_downsampling_averages_blocks():
    x = np.array([[0, 2, 0, 0, 4, 6, 0, 0, 0, 0, 8, 8, 0, 0, 8, 8]], dtype=np.float32)
    assert D.downsample(x, (4, 4), 2)[0].tolist() == [[3, 0], [0, 8]]


def test_cells_come_only_from_the_asked_classes():
    y = np.array([0, 1, 2, 3, 4, 5] * 10)
    cells = D.draw_cells(y, (1, 4), 200, np.random.default_rng(0))
    assert set(y[cells].ravel()) == {1, 4}
    with pytest.raises(ValueError, match="no item"):
        D.draw_cells(y, (9,), 5, np.random.default_rng(0))


def test_a_tasks_training_labels_name_only_its_classes(ctx):
    from benchbed_continual.multilabel.task import DIGITS, build_stream

    stream = build_stream(DIGITS, ctx)
    full = stream.train_y.numpy()
    assert stream.columns == ((0, 1), (2, 3), (4, 5))  # digits 4-9 in pairs
    for t, cols in enumerate(stream.columns):
        e = stream.experience(t)
        others = [c for c in range(full.shape[1]) if c not in cols]
        assert e.labels == cols
        assert (e.y[:, others] == 0).all()
        assert (e.y[:, list(cols)].sum(1) >= 1).all()  # each image shows one of its classes
        # exactly the mosaics that show one of its classes, with their true labels there
        shown = D.showing(full, cols)
        assert len(e.x) == shown.sum()
        assert np.array_equal(e.y[:, list(cols)].numpy(), full[shown][:, list(cols)])
    # a mosaic showing classes of two tasks comes back in both, each time with its labels
    assert sum(len(stream.experience(t).x) for t in range(3)) > len(full)


@pytest.mark.slow
def test_the_fashion_mosaic_stream(ctx):
    from benchbed_continual.multilabel.task import FASHION, build_stream

    from benchbed.testing import require_asset

    stream = require_asset(lambda: build_stream(FASHION, ctx))
    assert tuple(stream.train_x.shape) == (12000, 784)
    assert tuple(stream.test_x.shape) == (2000, 784)
    labels = stream.train_y.numpy()
    # balanced classes: a cell shows a given class with probability 0.1, so a mosaic shows
    # 10 (1 - 0.9^4) = 3.44 classes on average, and one of a task's two w.p. 1 - 0.8^4 = 0.59
    assert labels.sum(1).min() >= 1 and labels.sum(1).max() <= 4
    assert labels.sum(1).mean() == pytest.approx(10 * (1 - 0.9**4), abs=0.03)
    for t in range(5):
        assert len(stream.experience(t).x) / 12000 == pytest.approx(1 - 0.8**4, abs=0.02)


# -- the methods on the tiny digits mosaic task ---------------------------------------------


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Each method's result on the digits mosaic task, one backbone for all of them."""
    from benchbed import Context

    cache = {}

    def run(name, **params):
        from benchbed_continual.multilabel.methods import METHODS
        from benchbed_continual.plugin import _factory

        key = (name, tuple(sorted(params.items())))
        if key not in cache:
            tasks = {t.name: t for t in _tasks()}
            model = _factory(METHODS[name][0])(**params)
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("BENCHBED_CACHE", str(tmp_path_factory.getbasetemp() / "mlcil-cache"))
                ctx = Context(seed=0, show_progress=False, plugin="continual")
                cache[key] = (tasks[DIGITS_TASK].evaluate(model, ctx), model)
        return cache[key]

    return run


def _tasks():
    from benchbed_continual.multilabel.task import multilabel_tasks

    return multilabel_tasks()


def test_tasks_are_registered(tasks):
    assert DIGITS_TASK in tasks
    assert "continual/fashion-mosaic-multilabel/class-il" in tasks
    assert tasks[DIGITS_TASK].kind.name == "multilabel-continual-learner"


def test_matrices_are_lower_triangular_and_metrics_in_range(results):
    result, _ = results("mlcil-finetune")
    art = result.artifacts["multilabel_matrices"]
    for name in ("map_matrix", "cf1_matrix", "of1_matrix"):
        assert [len(row) for row in art[name]] == [1, 2, 3]
    assert len(art["seen_map"]) == 3
    assert result.metrics["final_map"].value == pytest.approx(art["seen_map"][-1])
    assert result.metrics["average_map"].value == pytest.approx(np.mean(art["seen_map"]))
    assert len(result.metrics["final_map"].samples) == 6  # one AP per label
    assert art["backbone"]["base_test_map"] > 0.9  # the backbone learnt its base split


def test_multi_lane_beats_fine_tuning_and_keeps_old_tasks_exactly(results):
    lane, _ = results("multi-lane")
    tuned, _ = results("mlcil-finetune")
    lane_map = lane.artifacts["multilabel_matrices"]["map_matrix"]
    tuned_map = tuned.artifacts["multilabel_matrices"]["map_matrix"]
    assert lane.metrics["final_map"].value > tuned.metrics["final_map"].value + 0.05
    # an old task's pathway is untouched: its mAP on its own labels never moves
    assert lane_map[0][0] == lane_map[1][0] == lane_map[2][0]
    assert lane_map[1][1] == lane_map[2][1]
    # fine-tuning the shared top forgets task 0
    assert tuned_map[2][0] < tuned_map[0][0] - 0.05


def _prepared(model, ctx, iters=5):
    """`model` prepared on the digits stream with a backbone pre-trained for 5 steps only."""
    from dataclasses import replace

    from benchbed_continual.multilabel.backbone import pretrained_backbone, vit_config
    from benchbed_continual.multilabel.task import DIGITS, MultilabelSetting, build_stream, load

    quick = replace(DIGITS, base=replace(DIGITS.base, steps=5))
    state, _ = pretrained_backbone(quick, load("digits"), ctx)
    stream = build_stream(quick, ctx)
    setting = MultilabelSetting(6, stream.columns, vit_config(quick), state, iters, 16)
    model.prepare(setting)
    return stream


def test_old_pathways_parameters_do_not_change(ctx):
    import torch
    from benchbed_continual.multilabel.methods.multilane import MultiLane

    model = MultiLane()
    stream = _prepared(model, ctx)
    model.learn(stream.experience(0))
    before = {k: v.clone() for k, v in model.pathways[0].state_dict().items()}
    backbone = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    model.learn(stream.experience(1))
    model.learn(stream.experience(2))
    assert all(torch.equal(before[k], v) for k, v in model.pathways[0].state_dict().items())
    assert all(torch.equal(backbone[k], v) for k, v in model.backbone.state_dict().items())
    # a new pathway starts from a copy of the previous one's selectors, then trains its own
    assert not torch.equal(model.pathways[2].selectors, model.pathways[0].selectors)
    # no task identity: every seen label of every image, pathways in task order
    assert model.scores(stream.test_x[:7]).shape == (7, 6)


def test_inference_cost_with_and_without_summarisation(ctx):
    from benchbed_continual.multilabel.methods.multilane import MultiLane

    # digits ViT: 16 patches, 2 self-attention blocks; 4 selectors, prompts of 4 in 2 blocks
    for summarise in (True, False):
        model = MultiLane(summarise=summarise)
        stream = _prepared(model, ctx, iters=1)
        for t in range(3):
            model.learn(stream.experience(t))
        cost = model.cost()
        if summarise:
            # frozen pass 16 x 2; each of 3 pathways 1 + 4 tokens in 3 blocks
            assert cost["tokens"] == 16 * 2 + 3 * 3 * 5
            # 16^2 per frozen block; per pathway and block 4 x 16 summary scores plus the
            # class token's 1 + 4 keys (+ 4 prompts in blocks 0 and 1)
            assert cost["attention_scores"] == 2 * 256 + 3 * (3 * 64 + 5 + 9 + 9)
        else:
            # each pathway: 17 tokens through 2 blocks, then its class token
            assert cost["tokens"] == 3 * (17 * 2 + 1)
            assert cost["attention_scores"] == 3 * (17 * 21 * 2 + 17)


@pytest.mark.parametrize(
    "name, params, message",
    [
        ("multi-lane", {"selectors": 0}, "selectors"),
        ("l2p", {"top_k": 11}, "top_k"),
    ],
)
def test_bad_parameters_get_a_clear_error(build_multilabel, name, params, message):
    with pytest.raises(ValueError, match=message):
        build_multilabel(name, **params)


@pytest.fixture
def build_multilabel():
    from benchbed_continual.multilabel.methods import METHODS
    from benchbed_continual.plugin import _factory

    return lambda name, **params: _factory(METHODS[name][0])(**params)
