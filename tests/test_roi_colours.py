"""A region of interest is every pixel that is not black, whatever the file's mode: colour and
palette files were read through PIL's rounded 8-bit luminance, so a near-black colour such as
(1, 0, 0) or (0, 0, 2) read as 0 and its pixels fell outside the region."""

from __future__ import annotations

import numpy as np
from PIL import Image

from unet.common.roi import read_roi


def test_near_black_colours_are_inside_the_region(tmp_path):
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[0, 0] = (1, 0, 0)
    rgb[1, 1] = (0, 0, 2)
    rgb[2, 2] = (0, 1, 0)
    rgb[3, 3] = (200, 100, 50)
    Image.fromarray(rgb).save(tmp_path / "roi.png")
    inside = read_roi(tmp_path / "roi.png", (4, 6), tmp_path / "mask.png")
    assert inside.sum() == 4 and inside[0, 0] and inside[1, 1] and inside[2, 2]


def test_a_palette_region_is_its_non_black_entries(tmp_path):
    index = np.zeros((4, 6), np.uint8)
    index[:, 3:] = 1
    index[0, 0] = 2  # black under another index: outside
    im = Image.fromarray(index, mode="P")
    im.putpalette([0, 0, 0, 0, 0, 1, 0, 0, 0] + [0] * (256 * 3 - 9))
    im.save(tmp_path / "roi.png")
    inside = read_roi(tmp_path / "roi.png", (4, 6), tmp_path / "mask.png")
    assert inside.sum() == 12 and inside[:, 3:].all() and not inside[0, 0]
