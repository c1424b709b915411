"""The instance test's corrupted copies: a blanked square, or additive Gaussian noise.

Images are flat float arrays in [0, 1], (n, C*H*W), channel-last when C > 1 (as
`benchbed.data.clipart` stores them); `shape` is (C, H, W).
"""

from __future__ import annotations

import numpy as np

from benchbed import BenchbedError


def occlude(
    images: np.ndarray,
    shape: tuple[int, int, int],
    side: int,
    fill: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """A copy of each image with one side x side square, placed uniformly at random wholly
    inside the image, set to `fill` in every channel (the data set's background, so the
    square blanks out part of the picture)."""
    channels, height, width = shape
    if not 1 <= side <= min(height, width):
        raise BenchbedError(f"an occluding square of side {side} does not fit {height}x{width}")
    out = images.reshape(len(images), height, width, channels).copy()
    tops = rng.integers(0, height - side + 1, size=len(images))
    lefts = rng.integers(0, width - side + 1, size=len(images))
    for image, top, left in zip(out, tops, lefts):
        image[top : top + side, left : left + side] = fill
    return out.reshape(len(images), -1)


def add_noise(images: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """A copy with independent N(0, sigma^2) noise on every pixel value, clipped to [0, 1]."""
    if sigma < 0:
        raise BenchbedError(f"noise sigma must be non-negative, not {sigma}")
    noisy = images + rng.normal(0.0, sigma, size=images.shape)
    return np.clip(noisy, 0.0, 1.0).astype(images.dtype)
