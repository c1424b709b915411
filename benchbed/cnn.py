"""A small CNN feature extractor trained by plain cross-entropy on a data set's base classes
only, as the transductive few-shot papers (SimpleShot, LaplacianShot, TIM) train theirs: no
episodic training. Shared by the few-shot and continual plugins, which cache the trained
weights under their own cache folders.

Features of evaluation images are the 256-d output of the penultimate layer (after ReLU),
the layer those papers read. Images are flat float arrays in [0, 1]; `shape` (channels,
height, width) says how to read them: (1, 28, 28) for MNIST, (3, 32, 32) HWC-ordered RGB for
clip art. On a GPU cuDNN may pick non-deterministic kernels, so weights trained there can
differ in the last bits from run to run; on CPU they are reproducible.
"""

from __future__ import annotations

import numpy as np

EPOCHS = 5
BATCH = 128
LR = 1e-3
FEATURE_DIM = 256
MNIST_SHAPE = (1, 28, 28)


def build_network(n_classes: int, shape: tuple[int, int, int] = MNIST_SHAPE):
    import torch.nn as nn

    def block(i, o):
        return nn.Sequential(
            nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)
        )

    channels, height, width = shape
    features = nn.Sequential(
        block(channels, 32),
        block(32, 64),
        block(64, 128),
        nn.Flatten(),  # each block halves the side, rounding down: 28 -> 3, 32 -> 4
        nn.Linear(128 * (height // 8) * (width // 8), FEATURE_DIM),
        nn.ReLU(),
    )
    return nn.Sequential(features, nn.Linear(FEATURE_DIM, n_classes))


def as_images(x: np.ndarray, shape: tuple[int, int, int]):
    """Flat images (n, C*H*W) as a float tensor (n, C, H, W); multi-channel arrays are HWC."""
    import torch

    channels, height, width = shape
    images = torch.as_tensor(x, dtype=torch.float32)
    if channels == 1:
        return images.view(-1, 1, height, width)
    return images.view(-1, height, width, channels).permute(0, 3, 1, 2).contiguous()


def train_backbone(
    x: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    seed: int,
    device: str,
    progress=None,
    shape: tuple[int, int, int] = MNIST_SHAPE,
    epochs: int = EPOCHS,
):
    """Cross-entropy training of `build_network` on flat images x in [0, 1], labels 0..C-1."""
    import torch
    import torch.nn.functional as F

    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # weight initialisation
    net = build_network(n_classes, shape).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    images = as_images(x, shape)
    labels = torch.as_tensor(y, dtype=torch.long)
    steps = range(epochs)
    for _ in progress(steps, desc="backbone epochs") if progress else steps:
        net.train()
        order = torch.randperm(len(images), generator=generator)
        for start in range(0, len(order), BATCH):
            idx = order[start : start + BATCH]
            loss = F.cross_entropy(net(images[idx].to(device)), labels[idx].to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return net.eval()


def extract(
    net, x: np.ndarray, device: str, batch: int = 1024, shape: tuple[int, int, int] = MNIST_SHAPE
) -> np.ndarray:
    """Penultimate-layer features (n, FEATURE_DIM) of flat images x."""
    return _apply(net[0], x, device, batch, shape)


def classify(
    net, x: np.ndarray, device: str, batch: int = 1024, shape: tuple[int, int, int] = MNIST_SHAPE
) -> np.ndarray:
    """The trained classifier's predicted class (n,) of each flat image."""
    return _apply(net, x, device, batch, shape).argmax(1)


def _apply(module, x: np.ndarray, device: str, batch: int, shape) -> np.ndarray:
    import torch

    images = as_images(x, shape)
    out = []
    with torch.inference_mode():
        for start in range(0, len(images), batch):
            out.append(module(images[start : start + batch].to(device)).float().cpu())
    return torch.cat(out).numpy()
