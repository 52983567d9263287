"""A defect of a pixel's width stays visible in the report's overlays: a panel is drawn about
400 px wide, and sampling every n-th row of a larger mask (ours, or matplotlib's nearest
resampling) drew MVTec AD's thin cracks nowhere."""

from __future__ import annotations

import numpy as np
from PIL import Image

from unet.common.labels import MaskMapping
from unet.report.figures import plot_overlays


def _red_pixels(png) -> int:
    rgb = np.asarray(Image.open(png).convert("RGB")).astype(int)
    return int(((rgb[..., 0] - rgb[..., 1] > 40) & (rgb[..., 0] - rgb[..., 2] > 40)).sum())


def _drawn(tmp_path, side: int, crack: bool) -> int:
    """Red pixels of the overlay of a `side` px image, with or without its crack."""
    Image.fromarray(np.full((side, side), 128, np.uint8)).save(tmp_path / "i.png")
    mask = np.zeros((side, side), np.uint8)
    if crack:
        mask[side // 2 + 1, side // 4: side // 2] = 255  # 0.03-0.01 % of the image
    Image.fromarray(mask).save(tmp_path / "m.png")
    rows = [{"id": "crack", "image": str(tmp_path / "i.png"),
             "panels": [("ground truth", str(tmp_path / "m.png"))]}]
    plot_overlays(rows, tmp_path / "o.png", MaskMapping((0, 255)))
    return _red_pixels(tmp_path / "o.png")


def test_a_one_pixel_crack_is_painted_whatever_the_image_size(tmp_path):
    for side in (900, 2100):  # MVTec AD's bottle; a line-scan tile, shrunk before drawing
        # the legend's red patch is there either way
        assert _drawn(tmp_path, side, True) > _drawn(tmp_path, side, False) + 20, side
