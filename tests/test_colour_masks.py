"""Colour masks read, thresholded and skipped in their own colours, and masks drawn in an
alpha channel named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.test_value_spaces import (
    H,
    W,
    _dataset,
    _disc,
    _preprocess,
    _train_and_predict,
    _write_split,
)
from unet.cache.settings import PreprocessSettings, settings_from_config
from unet.cache.values import mapping_from_values
from unet.common.labels import MaskValueError


def _near_colour_masks(tmp_path: Path) -> list[np.ndarray]:
    """8 pairs whose colour masks are magenta, cyan and black, each channel off by up to 6
    (DeepGlobe's land-cover masks: "may not be pure 0 and 255; binarize them at 128")."""
    rng = np.random.default_rng(4)
    pairs, truth = [], []
    for i in range(8):
        cls = np.zeros((H, W), np.uint8)
        cls[_disc(i) > 0.5], cls[:, : 8 + i] = 1, 2
        rgb = np.array([[0, 0, 0], [255, 0, 255], [0, 255, 255]], np.int16)[cls]
        rgb += np.where(rgb == 0, 1, -1) * rng.integers(0, 7, rgb.shape).astype(np.int16)
        img, msk = tmp_path / f"img{i}.png", tmp_path / f"msk{i}.png"
        Image.fromarray(rng.integers(0, 255, (H, W, 3), np.uint8)).save(img)
        Image.fromarray(rgb.astype(np.uint8)).save(msk)
        pairs.append({"id": f"p{i}", "image": str(img), "mask": str(msk), "size": [W, H]})
        truth.append(cls)
    _write_split(tmp_path, pairs)
    return truth


def test_a_threshold_binarises_each_channel_of_colour_masks(tmp_path):
    # With masks.colors, masks.threshold was taken for a grey threshold: refused as "values
    # must list two values" for three colours, and for two it read the masks by brightness.
    from unet.cache.reader import load_split

    truth = _near_colour_masks(tmp_path)
    masks = {"values": None, "colors": [[0, 0, 0], [255, 0, 255], [0, 255, 255]],
             "threshold": 128, "max_values": 16, "ignore": None}
    meta = _preprocess(tmp_path, settings_from_config({"width": W, "height": H}, masks))
    assert meta["mask_rgb"] is True and meta["num_classes"] == 3
    assert np.array_equal(load_split(tmp_path / "cache", "train")[1], np.stack(truth[:4]))
    written = _train_and_predict(tmp_path)
    colours = {tuple(c) for png in written.glob("*.png")
               for c in np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3)}
    assert colours <= {(0, 0, 0), (255, 0, 255), (0, 255, 255)}


def test_a_threshold_is_refused_for_colours_it_cannot_reach(tmp_path):
    masks = {"values": None, "colors": [[0, 0, 0], [128, 64, 128]], "threshold": 100,
             "max_values": 16, "ignore": None}
    settings = settings_from_config({"width": W, "height": H}, masks)
    with pytest.raises(MaskValueError, match=r"\[128, 64, 128\].*0 or 255"):
        mapping_from_values(set(), list(settings.mask_values), 100, 16, rgb=True)


@pytest.mark.parametrize("colors", [[[0, 0, 0], [255, 0, 255], [0, 255, 255]], None])
@pytest.mark.parametrize("ignore", [255, [255, 255, 255]])
def test_the_ignore_value_of_colour_masks_is_a_colour(tmp_path, ignore, colors):
    # With colour masks, masks.ignore was compared with packed 0xRRGGBB values: `ignore: 255`
    # meant blue (0x0000FF), not white, and a colour could not be written at all.
    from unet.cache.reader import load_split

    truth = _near_colour_masks(tmp_path)
    for i, t in enumerate(truth):  # exact colours, and a white "don't care" border
        rgb = np.array([[0, 0, 0], [255, 0, 255], [0, 255, 255]], np.uint8)[t]
        rgb[:2] = 255
        Image.fromarray(rgb).save(tmp_path / f"msk{i}.png")
    masks = {"values": None, "colors": colors, "threshold": None, "max_values": 16,
             "ignore": ignore}
    meta = _preprocess(tmp_path, settings_from_config({"width": W, "height": H}, masks))
    assert meta["class_values"] == [0, 0x00FFFF, 0xFF00FF] if colors is None else True
    train = load_split(tmp_path / "cache", "train")[1]
    assert (train[:, :2] == 255).all() and (train[:, 2:] < 3).all()  # IGNORE_INDEX
    assert meta["ignore_value"] == 0xFFFFFF


def test_a_colour_ignore_value_for_grey_masks_is_refused(tmp_path):
    _dataset(tmp_path, 8, lambda i: "L", lambda i: "L",
             lambda i, d: np.where(d > 0.5, 255, 0).astype(np.uint8))
    masks = {"values": None, "colors": None, "threshold": None, "max_values": 16,
             "ignore": [255, 0, 0]}
    with pytest.raises(MaskValueError, match=r"masks.ignore \[255, 0, 0\] is a colour"):
        _preprocess(tmp_path, settings_from_config({"width": W, "height": H}, masks))


def test_masks_drawn_in_the_alpha_channel_are_named(tmp_path):
    # White strokes on a transparent layer: every pixel is white and only alpha marks the
    # object, so the masks read as one value, refused with "check the mask folder" alone.
    def alpha(i, d):
        return np.dstack([np.full((H, W, 3), 255, np.uint8), np.where(d > 0.5, 255, 0)])

    rng = np.random.default_rng(5)
    pairs = []
    for i in range(8):
        img, msk = tmp_path / f"img{i}.png", tmp_path / f"msk{i}.png"
        Image.fromarray(rng.integers(0, 255, (H, W), np.uint8)).save(img)
        Image.fromarray(alpha(i, _disc(i)).astype(np.uint8), "RGBA").save(msk)
        pairs.append({"id": f"p{i}", "image": str(img), "mask": str(msk), "size": [W, H]})
    _write_split(tmp_path, pairs)
    with pytest.raises(MaskValueError, match=r"msk0\.png.*alpha channel"):
        _preprocess(tmp_path, PreprocessSettings(width=W, height=H))


def test_an_unknown_colour_after_the_threshold_is_named_as_thresholded():
    """DeepGlobe-like JPEG colour masks with masks.threshold: the error listed the raw colours
    (151, 255, 134), not the (255, 255, 255) they snap to, and said to set masks.threshold,
    which was set."""
    from unet.cache.values import mapping_from_values
    from unet.common.labels import MaskValueError

    mapping = mapping_from_values(set(), [0x000000, 0xFF0000], 128, 16, None, rgb=True)
    raw = np.array([[0x000000, 0xFF0000, (151 << 16) | (255 << 8) | 134]], np.uint32)
    with pytest.raises(MaskValueError) as err:
        mapping.to_index(raw)
    message = str(err.value)
    assert "(151, 255, 134)" in message and "masks.threshold 128: [(255, 255, 255)]" in message
    assert "set masks.threshold" not in message
