"""The Open Clip Art loader: transparency, aspect ratio, links, and the missing-package error."""

from collections import Counter

import numpy as np
import pytest
from PIL import Image

from benchbed.assets import MissingAsset
from benchbed.data.clipart import ROOT, image_paths, load_clipart, to_array

needs_clipart = pytest.mark.skipif(
    not ROOT.exists(), reason="install it with: sudo apt-get install openclipart-png"
)


def test_transparent_pixels_become_white_whatever_colour_they_hide():
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)  # fully transparent black
    rgba[:, 2:] = [255, 0, 0, 255]  # right half opaque red
    rgba[0, 0] = [0, 0, 255, 128]  # one half-transparent blue pixel
    out = to_array(Image.fromarray(rgba, "RGBA"), size=2)
    assert out.shape == (2, 2, 3) and out.dtype == np.uint8
    assert out[:, 1].tolist() == [[255, 0, 0]] * 2
    assert out[1, 0].tolist() == [255, 255, 255]  # hidden black does not bleed in
    # top-left 2x2 block: three white pixels and blue at alpha 128/255 over white
    blue_on_white = [255 * (1 - 128 / 255), 255 * (1 - 128 / 255), 255]
    expected = (3 * np.array([255.0, 255, 255]) + blue_on_white) / 4
    assert np.abs(out[0, 0] - expected).max() <= 1


def test_other_modes_and_aspect_ratio():
    # a palette image whose index 0 is transparent: the same as transparent RGBA
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([0, 0, 0, 0, 255, 0])
    palette.info["transparency"] = 0
    palette.paste(1, (0, 0, 2, 4))  # left half green, opaque
    assert to_array(palette, 2).tolist() == [[[0, 255, 0], [255, 255, 255]]] * 2
    # a wide opaque black picture is centred on white: rows above and below stay white
    wide = to_array(Image.new("LA", (8, 4), (0, 255)), 4)
    assert (wide[[0, 3]] == 255).all() and (wide[[1, 2]] == 0).all()


def test_a_missing_package_names_the_install_command(tmp_path):
    with pytest.raises(MissingAsset, match="apt-get install openclipart-png"):
        image_paths(tmp_path / "openclipart" / "png")


@needs_clipart
def test_loader_shapes_labels_and_skipped_links():
    mammals = ROOT / "animals" / "mammals"  # 126 files, 16 of them links to other folders
    x, labels, paths = load_clipart(mammals)
    assert x.shape == (110, 32 * 32 * 3) and x.dtype == np.uint8
    assert Counter(labels) == {
        ".": 61, "bears": 8, "big_cats": 12, "dogs": 7, "horses": 10, "housecats": 12
    }  # fmt: skip
    assert all(not (mammals / p).is_symlink() for p in paths)
    assert list(paths) == sorted(paths)
    assert 0 < x.mean() < 255 and x.max() == 255  # pictures on a white background
