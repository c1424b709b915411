"""Multi-label images made from real ones: `grid x grid` mosaics of items of a labelled data
set, each mosaic labelled with the set of classes it shows; and the multi-label
class-incremental stream built from them.

The stream follows the MLCIL protocol used on COCO and VOC (Dong et al. 2023, KRT; De Min
et al. 2024, MULTI-LANE): task t's training images are the mosaics that show at least one
of its classes and carry only its labels (the other classes they show are unlabelled, so a
mosaic can come back in a later task with that task's labels); after task t the test
images are those that show at least one class seen so far, labelled with the seen classes.
NumPy only: the task turns the arrays into tensors.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def downsample(x: np.ndarray, shape: tuple[int, int], factor: int) -> np.ndarray:
    """Average-pool flat images [n, h * w] by `factor`: [n, h/factor, w/factor]."""
    h, w = shape
    if h % factor or w % factor:
        raise ValueError(f"image shape {shape} is not divisible by {factor}")
    images = x.reshape(len(x), h // factor, factor, w // factor, factor)
    return images.mean(axis=(2, 4), dtype=np.float32)


def draw_cells(y: np.ndarray, classes: tuple[int, ...], n: int, rng, grid: int = 2) -> np.ndarray:
    """Item indices [n, grid * grid] for n mosaics, each cell an item drawn uniformly from
    the items whose class is in `classes` (so classes keep the data set's frequencies)."""
    pool = np.flatnonzero(np.isin(y, classes))
    if len(pool) == 0:
        raise ValueError(f"no item of classes {classes}")
    return rng.choice(pool, size=(n, grid * grid))


def compose(items: np.ndarray, cells: np.ndarray, grid: int = 2) -> np.ndarray:
    """Flat mosaics [n, (grid*h) * (grid*w)]: cell k of mosaic i is `items[cells[i, k]]`
    ([h, w] each), filled row by row."""
    n = len(cells)
    h, w = items.shape[1:]
    tiles = items[cells].reshape(n, grid, grid, h, w)
    return tiles.transpose(0, 1, 3, 2, 4).reshape(n, grid * h * grid * w)


def label_sets(y: np.ndarray, cells: np.ndarray, classes: tuple[int, ...]) -> np.ndarray:
    """Multi-hot labels [n, len(classes)]: column c is 1 when some cell shows `classes[c]`."""
    shown = y[cells]  # [n, cells]
    return np.stack([(shown == k).any(1) for k in classes], 1).astype(np.float32)


@dataclass(frozen=True)
class MosaicSpec:
    """How mosaics are made from one data set: `classes` are the label columns, in order."""

    classes: tuple[int, ...]
    item_shape: tuple[int, int] = (28, 28)  # of the source images
    factor: int = 2  # downsampling of each item
    grid: int = 2

    @property
    def image_shape(self) -> tuple[int, int, int]:
        h, w = self.item_shape
        return (1, self.grid * h // self.factor, self.grid * w // self.factor)


def mosaics(x: np.ndarray, y: np.ndarray, spec: MosaicSpec, n: int, rng):
    """n mosaics of the items of (x, y) of `spec.classes`: (images, labels, cells)."""
    items = downsample(x, spec.item_shape, spec.factor)
    cells = draw_cells(y, spec.classes, n, rng, spec.grid)
    return compose(items, cells, spec.grid), label_sets(y, cells, spec.classes), cells


def task_columns(classes: tuple[int, ...], tasks: tuple[tuple[int, ...], ...]):
    """Each task's label columns (positions of its classes in `classes`)."""
    missing = {k for task in tasks for k in task} - set(classes)
    if missing:
        raise ValueError(f"task classes {sorted(missing)} are not among {classes}")
    return tuple(tuple(classes.index(k) for k in task) for task in tasks)


def task_training_set(images: np.ndarray, labels: np.ndarray, columns: tuple[int, ...]):
    """A task's training set: the mosaics showing at least one of its label columns, with
    every other column set to 0 (unlabelled, as in the MLCIL protocol)."""
    keep = labels[:, list(columns)].any(1)
    own = np.zeros_like(labels[keep])
    own[:, list(columns)] = labels[keep][:, list(columns)]
    return images[keep], own


def showing(labels: np.ndarray, columns) -> np.ndarray:
    """Boolean mask of the rows that show at least one of `columns`."""
    return labels[:, list(columns)].any(1)
