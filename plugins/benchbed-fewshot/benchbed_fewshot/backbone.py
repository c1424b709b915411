"""A CNN feature extractor trained by plain cross-entropy on the base classes only, as the
transductive papers (SimpleShot, LaplacianShot, TIM) train theirs: no episodic training.

Trained once per (data set, seed) and cached under the plugin's cache folder; features of
the evaluation images are the 256-d output of the penultimate layer (after ReLU), the layer
those papers read. On a GPU cuDNN may pick non-deterministic kernels, so weights trained
there can differ in the last bits from run to run; on CPU they are reproducible.
"""

from __future__ import annotations

import numpy as np

EPOCHS = 5
BATCH = 128
LR = 1e-3
FEATURE_DIM = 256


def build_network(n_classes: int):
    import torch.nn as nn

    def block(i, o):
        return nn.Sequential(
            nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(), nn.MaxPool2d(2)
        )

    features = nn.Sequential(
        block(1, 32),
        block(32, 64),
        block(64, 128),
        nn.Flatten(),  # 28 -> 14 -> 7 -> 3
        nn.Linear(128 * 3 * 3, FEATURE_DIM),
        nn.ReLU(),
    )
    return nn.Sequential(features, nn.Linear(FEATURE_DIM, n_classes))


def train_backbone(
    x: np.ndarray, y: np.ndarray, n_classes: int, seed: int, device: str, progress=None
):
    """Cross-entropy training of `build_network` on images x (n, 784) in [0, 1], labels 0..C-1."""
    import torch
    import torch.nn.functional as F

    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # weight initialisation
    net = build_network(n_classes).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=LR)
    images = torch.as_tensor(x, dtype=torch.float32).view(-1, 1, 28, 28)
    labels = torch.as_tensor(y, dtype=torch.long)
    steps = range(EPOCHS)
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


def extract(net, x: np.ndarray, device: str, batch: int = 1024) -> np.ndarray:
    """Penultimate-layer features (n, FEATURE_DIM) of images x (n, 784)."""
    import torch

    images = torch.as_tensor(x, dtype=torch.float32).view(-1, 1, 28, 28)
    out = []
    with torch.inference_mode():
        for start in range(0, len(images), batch):
            out.append(net[0](images[start : start + batch].to(device)).float().cpu())
    return torch.cat(out).numpy()
