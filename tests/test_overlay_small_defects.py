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


def _drawn(tmp_path, side: int, crack: bool, row: int | None = None, across: bool = True) -> int:
    """Red pixels of the overlay of a `side` px image, with or without its crack (on `row`, or
    down that column where not `across`)."""
    Image.fromarray(np.full((side, side), 128, np.uint8)).save(tmp_path / "i.png")
    mask = np.zeros((side, side), np.uint8)
    if crack:
        at = side // 2 + 1 if row is None else row
        mask[at, side // 4: side // 2] = 255  # 0.03-0.01 % of the image
        mask = mask if across else mask.T
    Image.fromarray(mask).save(tmp_path / "m.png")
    rows = [{"id": "crack", "image": str(tmp_path / "i.png"),
             "panels": [("ground truth", str(tmp_path / "m.png"))]}]
    plot_overlays(rows, tmp_path / "o.png", MaskMapping((0, 255)))
    return _red_pixels(tmp_path / "o.png")


def test_a_one_pixel_crack_is_painted_whatever_the_image_size(tmp_path):
    for side in (900, 2100):  # MVTec AD's bottle; a line-scan tile, shrunk before drawing
        # the legend's red patch is there either way
        assert _drawn(tmp_path, side, True) > _drawn(tmp_path, side, False) + 20, side


def test_a_crack_is_painted_where_the_mask_is_a_little_wider_than_the_panel(tmp_path):
    # the panel as laid out is about 387 px, not 396: a 396 px mask (drawn as is) and a 780
    # px one (shrunk to 390) were resampled to it, and these rows or columns were dropped
    for side, row, across in ((396, 48, True), (396, 264, True), (396, 48, False),
                              (780, 768, True)):
        crack = _drawn(tmp_path, side, True, row, across)
        assert crack > _drawn(tmp_path, side, False) + 20, (side, row, across)


def test_shrunk_masks_show_each_blocks_highest_class_else_its_first_pixel():
    from unet.report.figures import _shrunk

    rng = np.random.default_rng(3)
    index = rng.choice(np.array([0, 1, 2, 3, 255], np.uint8), (53, 47), p=[.9, .03, .02, .01, .04])
    layer = np.ma.masked_where((index < 1) | (index >= 4), index)  # background and ignored out
    for step in (2, 5, 7, 53):  # blocks that do not divide the sides, and one block down
        got = _shrunk(layer, step)
        for by in range(got.shape[0]):
            for bx in range(got.shape[1]):
                block = layer[by * step:(by + 1) * step, bx * step:(bx + 1) * step]
                if block.count():  # a class in the block: the highest shows
                    assert not got.mask[by, bx] and got[by, bx] == block.max(), (step, by, bx)
                else:  # none: the first pixel's value (255 is painted as ignored), masked
                    assert got.mask[by, bx] and got.data[by, bx] == block.data[0, 0]
