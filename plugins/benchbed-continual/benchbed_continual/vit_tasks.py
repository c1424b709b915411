"""Class-incremental benchmarks on the small vision transformer (`vit.py`): Split-Fashion-MNIST
and clip-art categories of Debian's `openclipart-png`, with protocols sized for one CPU thread."""

from __future__ import annotations

from benchbed.data.images import load_fashion_mnist
from benchbed_continual.benchmarks import (
    ContinualTask,
    Protocol,
    Stream,
    make_setting,
    split_stream,
)
from benchbed_continual.learner import Experience

# A 128-image Adam step of the default ViT (4x4 patches, 4 blocks of width 64, a
# class-attention block) takes about 0.2 s on one CPU thread, so 2 epochs per context
# (188 steps) keep a whole 5-context run to a few minutes.
VIT_FASHION = Protocol(epochs=2, batch_size=128, lr=1e-3, backbone="vit", image_shape=(1, 28, 28))

# The 20 largest folders of openclipart-png 1:0.18 (67 to 1,378 pictures each, symbolic-link
# duplicates dropped), leaving out "unsorted", which has no common content. Sorted by name, so
# that each context of 4 classes mixes large and small ones.
CLIPART_CLASSES = (
    "computer",
    "computer/buttons",
    "computer/icons",
    "computer/icons/flat-theme/action",
    "computer/icons/flat-theme/applications",
    "computer/icons/lemon-theme/actions",
    "computer/icons/lemon-theme/apps",
    "computer/icons/lemon-theme/mimetypes",
    "food/desserts",
    "food/fruit",
    "geography",
    "office",
    "people",
    "recreation/music",
    "shapes/arrows",
    "shapes/stars",
    "signs_and_symbols",
    "signs_and_symbols/map_symbols",
    "special/patterns",
    "tools",
)
CLIPART_PER_CONTEXT = 4
# At most 200 pictures of a class (shapes/stars alone has 1,378), a fifth of them for testing.
CLIPART_MAX_PER_CLASS = 200
CLIPART_TEST_FRACTION = 0.2
# The split is part of the benchmark, the same for every cell whatever its seed.
CLIPART_SPLIT_SEED = 0
# About 400 training pictures per context: 30 epochs are about 95 steps of 128.
VIT_CLIPART = Protocol(
    epochs=30, batch_size=128, lr=1e-3, memory=500, backbone="vit", image_shape=(3, 32, 32)
)


def clipart_split(labels, classes=CLIPART_CLASSES, seed: int = CLIPART_SPLIT_SEED):
    """{"train": indices, "test": indices} into the clip-art arrays: per class, a seeded
    permutation of its pictures cut to CLIPART_MAX_PER_CLASS, the first fifth for testing."""
    import numpy as np

    rng = np.random.default_rng(seed)
    split = {"train": [], "test": []}
    for name in classes:
        members = np.flatnonzero(labels == name)
        chosen = rng.permutation(members)[:CLIPART_MAX_PER_CLASS]
        n_test = max(1, round(CLIPART_TEST_FRACTION * len(chosen)))
        split["test"].append(chosen[:n_test])
        split["train"].append(chosen[n_test:])
    return {k: np.concatenate(v) for k, v in split.items()}


def clipart_stream(protocol: Protocol, ctx) -> Stream:
    """Class-incremental clip-art: contexts of CLIPART_PER_CONTEXT folder classes in the order
    of CLIPART_CLASSES, images as flat float CHW vectors in [0, 1]."""
    import numpy as np
    import torch

    from benchbed.data.clipart import SIZE, load_clipart

    pictures, labels, _ = load_clipart()
    index = {name: k for k, name in enumerate(CLIPART_CLASSES)}
    device = torch.device(ctx.device)
    data = {}
    for part, rows in clipart_split(labels).items():
        # load_clipart gives HWC rows; the ViT folds its input as CHW.
        x = pictures[rows].reshape(-1, SIZE, SIZE, 3).transpose(0, 3, 1, 2).reshape(len(rows), -1)
        y = np.array([index[name] for name in labels[rows]])
        data[part] = (
            torch.as_tensor(x.astype(np.float32) / 255.0).to(device),
            torch.as_tensor(y, dtype=torch.long).to(device),
        )
    n_classes = len(CLIPART_CLASSES)
    groups = [
        tuple(range(k, k + CLIPART_PER_CONTEXT)) for k in range(0, n_classes, CLIPART_PER_CONTEXT)
    ]
    masks = torch.ones(len(groups), n_classes, dtype=torch.bool)

    def part(split, t):
        x, y = data[split]
        keep = (y >= groups[t][0]) & (y <= groups[t][-1])
        return x[keep], y[keep]

    sizes = [len(part("train", t)[0]) for t in range(len(groups))]
    setting = make_setting(
        protocol, "class", data["train"][0].shape[1], n_classes, masks, sizes, ctx
    )
    return Stream(
        setting,
        lambda t: Experience(t, *part("train", t), groups[t]),
        lambda t: part("test", t),
    )


def vit_tasks() -> list[ContinualTask]:
    return [
        ContinualTask(
            "continual/split-fashion-mnist-vit/class-il",
            "Split-Fashion-MNIST, class-incremental, on a small ViT: 5 contexts of 2 classes; "
            "ViT with 4x4 patches, 4 self-attention blocks of width 64 (4 heads) and a "
            "class-attention block; Adam 1e-3, batch 128, 2 epochs per context, replay memory "
            "1100",
            lambda ctx: split_stream(load_fashion_mnist, "class", VIT_FASHION, ctx),
        ),
        ContinualTask(
            "continual/clipart-vit/class-il",
            "Clip-art (openclipart-png, 32x32 RGB), class-incremental on a small ViT: 20 folder "
            "classes in 5 contexts of 4, at most 200 pictures per class with a fixed 80/20 "
            "train/test split; ViT with 4x4 patches, 4 blocks of width 64 and a "
            "class-attention block; Adam 1e-3, batch 128, 30 epochs per context, replay memory "
            "500",
            lambda ctx: clipart_stream(VIT_CLIPART, ctx),
        ),
    ]
