"""The pictures a stream draws from and the frozen feature extractor every method shares.

Clip art: the Open Clip Art folders with at least 20 pictures, split 64/16/20 by the
core's `split_classes` (48 base, 12 validation, 15 novel folders; the split the few-shot
plugin uses); a CNN (`benchbed.cnn`) is trained by cross-entropy on all base-class pictures
(20 epochs, the cell's seed) and cached per seed and device type; streams draw from the 15
novel folders only, whose pictures the backbone never saw. Digits: scikit-learn's 1,797 8x8
digits, all 10 classes, raw pixels as features: a protocol check for fast tests, not a
novel-class benchmark.

Meta-learners also get the pictures they may meta-train on (`base_*`): for clip art the 48
base folders' pictures, embedded by the same frozen backbone (never a novel folder); for
digits, which have no class split, the same 10 classes and pictures the streams use, so a
meta-learner's digits numbers check the code path and measure nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

CLIPART_MIN_PER_CLASS = 20
CLIPART_EPOCHS = 20


@dataclass
class StreamData:
    images: np.ndarray  # (n, C*H*W) float32 in [0, 1], the evaluation classes' pictures
    labels: np.ndarray  # (n,) data-set class of each
    classes: tuple[Any, ...]  # the evaluation classes streams draw from
    shape: tuple[int, int, int]  # (C, H, W)
    background: float  # value of a blank pixel, what an occluding square is filled with
    embed: Callable[[np.ndarray], np.ndarray]  # images -> features (the frozen backbone)
    info: dict
    # what a meta-learner may meta-train on: pictures of classes disjoint from `classes`
    # (digits, a protocol check, reuse the evaluation classes; see the module docstring)
    base_images: np.ndarray | None = None
    base_labels: np.ndarray | None = None
    base_classes: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        self.features = self.embed(self.images)

    @cached_property
    def base_features(self) -> np.ndarray:
        """The base pictures through the same frozen backbone, embedded on first use only
        (methods that do not meta-train never pay for it)."""
        if self.base_images is None:
            raise ValueError("this data set offers no base classes to meta-train on")
        return self.embed(self.base_images)


def digits(ctx) -> StreamData:
    from benchbed.data.images import load_digits

    parts = [load_digits(split) for split in ("train", "test")]
    x = np.concatenate([p[0] for p in parts]).astype(np.float32)
    y = np.concatenate([p[1] for p in parts])
    return StreamData(
        x,
        y,
        tuple(range(10)),
        (1, 8, 8),
        0.0,
        lambda images: np.asarray(images, dtype=np.float32),
        {"features": "raw pixels (64)", "items": len(x), "classes": 10},
        base_images=x,
        base_labels=y,
        base_classes=tuple(range(10)),
    )


def clipart(ctx) -> StreamData:
    from benchbed import cnn
    from benchbed.data.clipart import SIZE, VERSION, classes_with_at_least, load_clipart
    from benchbed.data.splits import split_classes

    pixels, labels, _ = load_clipart()
    split = split_classes(classes_with_at_least(labels, CLIPART_MIN_PER_CLASS))
    shape = (3, SIZE, SIZE)
    device_type = ctx.device.split(":")[0]
    # the name changes with anything that changes the weights, so no stale cache is read
    name = f"clipart{SIZE}-v{VERSION}-e{CLIPART_EPOCHS}-allbase-seed{ctx.seed}-{device_type}.pt"
    path = ctx.cache_dir / "backbones" / name
    base_names = np.asarray(split.base)
    if path.exists():
        import torch

        net = cnn.build_network(len(base_names), shape)
        net.load_state_dict(torch.load(path, map_location="cpu"))
        net = net.to(ctx.device).eval()
    else:
        net = _train(ctx, cnn, pixels, labels, base_names, shape, path)
    novel = np.isin(labels, split.novel)
    base = np.isin(labels, base_names)
    return StreamData(
        pixels[novel].astype(np.float32) / 255.0,
        labels[novel],
        split.novel,
        shape,
        1.0,  # clip art is drawn on white
        lambda images: cnn.extract(net, images, ctx.device, shape=shape),
        {
            "features": f"CNN trained on {len(base_names)} base classes ({cnn.FEATURE_DIM})",
            "items": int(novel.sum()),
            "classes": len(split.novel),
            "base_classes": len(base_names),
            "base_items": int(base.sum()),
        },
        base_images=pixels[base].astype(np.float32) / 255.0,
        base_labels=labels[base],
        base_classes=tuple(split.base),
    )


def _train(ctx, cnn, pixels, labels, base_names, shape, path):
    import torch

    base = np.isin(labels, base_names)
    with ctx.timer.phase("backbone-training", items=int(base.sum()) * CLIPART_EPOCHS):
        net = cnn.train_backbone(
            pixels[base].astype(np.float32) / 255.0,
            np.searchsorted(base_names, labels[base]),
            len(base_names),
            ctx.seed,
            ctx.device,
            ctx.progress,
            shape=shape,
            epochs=CLIPART_EPOCHS,
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename: cells in parallel workers may share this file.
    partial = path.with_suffix(f".{os.getpid()}.partial")
    torch.save(net.state_dict(), partial)
    partial.replace(path)
    return net
