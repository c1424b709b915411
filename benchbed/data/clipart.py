"""Open Clip Art Library images (Debian `openclipart-png`) as small RGB arrays, labelled by folder.

    from benchbed.data.clipart import load_clipart
    x, labels, paths = load_clipart()   # (n, 32*32*3) uint8, folder names, relative paths

Each PNG is made opaque by compositing it onto white (clip art is drawn on a transparent
background), padded with white to a centred square so its aspect ratio is kept, and reduced
to 32x32 RGB by area averaging (see `to_array`). Its class is its folder below `png/`, e.g.
"animals/birds". The package lists 1,221 of its 8,121 files twice, as symbolic links to a
picture that also sits in another folder; those links are dropped so that every picture has
exactly one class (a picture in two classes could land in base and novel at once). Three
files larger than Pillow's decompression-bomb limit (179 million pixels; up to 20,990 x
29,700) are skipped rather than decoded into gigabytes of memory. The decoded array is cached under `cache_root()/data`, so only the first load decodes PNGs.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from benchbed.assets import system_file
from benchbed.context import cache_root

ROOT = Path("/usr/share/openclipart/png")
INSTALL = "sudo apt-get install openclipart-png"
SIZE = 32
VERSION = 1  # bump when the preprocessing changes, so old caches are not reused


def image_paths(root: Path = ROOT) -> list[Path]:
    """Every PNG under `root` that is a regular file (symbolic links are duplicates), sorted."""
    system_file(root, INSTALL)
    return sorted(p for p in root.rglob("*.png") if p.is_file() and not p.is_symlink())


def to_array(image, size: int = SIZE) -> np.ndarray:
    """A PIL image as a (size, size, 3) uint8 array: scaled by area averaging so that its
    longer side is `size`, centred on a transparent square, then composited onto white.

    Pillow averages RGBA pixels in premultiplied form, so the colour stored under fully
    transparent pixels (arbitrary, often black) does not bleed into the result; averaging
    and compositing are both linear, so this equals compositing first and then reducing,
    without holding a full-size float copy of images up to 16,000 pixels wide.
    """
    from PIL import Image

    rgba = image.convert("RGBA")
    width, height = rgba.size
    side = max(width, height)
    fit = (max(1, round(size * width / side)), max(1, round(size * height / side)))
    square = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    square.paste(
        rgba.resize(fit, Image.Resampling.BOX), ((size - fit[0]) // 2, (size - fit[1]) // 2)
    )
    pixels = np.asarray(square, dtype=np.float32)
    alpha = pixels[..., 3:] / 255.0
    rgb = pixels[..., :3] * alpha + 255.0 * (1.0 - alpha)
    return np.rint(rgb).astype(np.uint8)


def classes_with_at_least(labels: np.ndarray, min_per_class: int) -> list[str]:
    """The folder classes with at least `min_per_class` pictures, sorted."""
    counts = dict(zip(*np.unique(labels, return_counts=True)))
    return sorted(str(c) for c, n in counts.items() if n >= min_per_class)


def load_clipart(root: Path = ROOT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, labels, paths): x (n, SIZE*SIZE*3) uint8 in HWC order, labels the folder of each
    picture relative to `root`, paths the file relative to `root`; sorted by path."""
    from PIL import Image

    path = cache_root() / "data" / f"openclipart-{SIZE}x{SIZE}-rgb-v{VERSION}.npz"
    if path.exists() and root == ROOT:
        saved = np.load(path)
        return saved["x"], saved["labels"], saved["paths"]
    decoded, files = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        for file in image_paths(root):
            try:
                with Image.open(file) as image:
                    decoded.append(to_array(image).reshape(-1))
            except Image.DecompressionBombError:
                continue  # over Pillow's pixel limit (see the module docstring)
            files.append(file)
    x = np.stack(decoded) if decoded else np.empty((0, SIZE * SIZE * 3), dtype=np.uint8)
    relative = [f.relative_to(root) for f in files]
    labels = np.asarray([r.parent.as_posix() for r in relative])
    paths = np.asarray([r.as_posix() for r in relative])
    if root == ROOT:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees half a file.
        partial = path.with_suffix(f".{os.getpid()}.partial.npz")
        np.savez(partial, x=x, labels=labels, paths=paths)
        partial.replace(path)
    return x, labels, paths
