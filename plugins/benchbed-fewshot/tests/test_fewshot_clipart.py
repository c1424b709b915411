"""The clip-art benchmark: the class split and (slow) the backbone trained on the base classes,
end to end. The loader itself is tested in the core (tests/test_data_clipart.py)."""

from collections import Counter

import numpy as np
import pytest
from benchbed_fewshot.benchmarks import BENCHMARKS, ClipArt
from benchbed_fewshot.episodes import split_classes
from benchbed_fewshot.methods.nearest_centroid import NearestCentroid
from benchbed_fewshot.methods.tim import TIMADM
from benchbed_fewshot.tasks import FewShotTask

from benchbed import cnn as backbone
from benchbed.data.clipart import ROOT, image_paths, load_clipart

needs_clipart = pytest.mark.skipif(
    not ROOT.exists(), reason="install it with: sudo apt-get install openclipart-png"
)
CLIPART = next(b for b in BENCHMARKS if b.name == "clipart")


@needs_clipart
def test_classes_and_split():
    labels = [p.relative_to(ROOT).parent.as_posix() for p in image_paths()]
    assert len(labels) == 6_900  # 8,121 files less 1,221 links
    names = ClipArt.classes(np.asarray(labels))
    assert len(names) == 75 and min(Counter(labels)[c] for c in names) >= 20
    split = split_classes(names)
    assert (len(split.base), len(split.validation), len(split.novel)) == (48, 12, 15)
    parts = [set(split.base), set(split.validation), set(split.novel)]
    assert sum(map(len, parts)) == len(set.union(*parts)) == 75
    assert CLIPART.splits == ("test", "validation") and CLIPART.episodes == 10_000


def test_backbone_reads_rgb_images_channel_last():
    import torch

    x = np.zeros((2, 32, 32, 3), dtype=np.float32)
    x[1, 5, 7] = [0.1, 0.2, 0.3]
    images = backbone.as_images(x.reshape(2, -1), (3, 32, 32))
    assert images.shape == (2, 3, 32, 32)
    assert images[1, :, 5, 7].tolist() == pytest.approx([0.1, 0.2, 0.3])
    net = backbone.build_network(48, (3, 32, 32))
    assert net[0](images).shape == (2, backbone.FEATURE_DIM) and net(images).shape == (2, 48)
    assert backbone.build_network(5)[0](torch.zeros(1, 1, 28, 28)).shape == (1, 256)


@pytest.mark.slow
@needs_clipart
def test_clipart_backbone_end_to_end(cached_ctx):
    """Trains (or reuses) the seed-0 backbone, then runs a few episodes on both splits."""
    ctx = cached_ctx
    task = FewShotTask(CLIPART, 5, 1, episodes=300)
    data = CLIPART.load(ctx)
    assert data.info["classes"] == 75 and data.features.shape == (data.info["items"], 256)
    assert data.info["items"] + data.info["dropped_small_class_items"] == len(load_clipart()[0])
    assert data.info["backbone_base_held_out_accuracy"] > 0.3  # 48 classes: chance is 0.02
    nc = task.evaluate(NearestCentroid("CL2N"), ctx).metrics["accuracy"]
    assert 0.3 < nc.value < task.evaluate(TIMADM(), ctx).metrics["accuracy"].value
    again = task.evaluate(NearestCentroid("CL2N"), ctx).metrics["accuracy"]
    assert again.samples == nc.samples  # features cached: same numbers
    ctx.split = "validation"
    assert task.evaluate(NearestCentroid("CL2N"), ctx).metrics["accuracy"].value > 0.3
