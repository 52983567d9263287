"""`missing_mask: empty`: an image without a mask file is all background, as MVTec AD's
defect-free `good/` images are (they come without masks); by default it is still refused."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from unet.dataset.download import write_manifest
from unet.dataset.layout import DataLayoutError, Layout

S = 16


def _save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _mvtec(root):
    """test/{good,crack}/000.png, ground_truth/crack/000_mask.png (0/255, 4 px)."""
    image = np.full((S, S + 4, 3), 90, np.uint8)
    for group in ("good", "crack"):
        _save(root / "test" / group / "000.png", image)
    mask = np.zeros((S, S + 4), np.uint8)
    mask[3:5, 6:8] = 255
    _save(root / "ground_truth/crack/000_mask.png", mask)
    return mask


MVTEC = dict(images="test/{group}", masks="ground_truth/{group}", mask_suffix="_mask")


def _pairs(tmp_path, layout):
    manifest = write_manifest(tmp_path / "out/manifest.json", "local", tmp_path / "d", layout)
    return {p["id"]: p for p in manifest["pairs"]}


def test_defect_free_folder_without_masks_folder_is_all_background(tmp_path):
    # test/good/ has no ground_truth/good/: it was passed over (an INFO line), so a model
    # trained and scored on defective parts alone, and never saw a good one.
    drawn = _mvtec(tmp_path / "d")
    pairs = _pairs(tmp_path, Layout(**MVTEC, missing_mask="empty"))
    assert sorted(pairs) == ["crack_000", "good_000"]  # 000.png of each folder: two ids
    blank = np.asarray(Image.open(pairs["good_000"]["mask"]))
    assert blank.shape == (S, S + 4) and not blank.any()
    assert (np.asarray(Image.open(pairs["crack_000"]["mask"])) == drawn).all()


def test_passed_over_folder_names_the_key(tmp_path, caplog):
    _mvtec(tmp_path / "d")
    with caplog.at_level(logging.INFO):
        pairs = _pairs(tmp_path, Layout(**MVTEC))
    assert sorted(pairs) == ["crack_000"]
    said = [r for r in caplog.records if "passed over good" in r.getMessage()]
    assert said and said[0].levelno == logging.WARNING
    assert "missing_mask: empty" in said[0].getMessage()


def test_image_without_mask_in_a_masks_folder(tmp_path):
    root = tmp_path / "d"
    _save(root / "images/a.png", np.full((S, S), 50, np.uint8))
    _save(root / "images/b.png", np.full((S + 2, S), 50, np.uint8))
    mask = np.zeros((S, S), np.uint8)
    mask[2:4, 2:4] = 255
    _save(root / "masks/a.png", mask)
    with pytest.raises(DataLayoutError, match="missing_mask: empty"):
        _pairs(tmp_path, Layout())  # refused as before, the error now naming the key
    pairs = _pairs(tmp_path, Layout(missing_mask="empty"))
    blank = np.asarray(Image.open(pairs["b"]["mask"]))
    assert blank.shape == (S + 2, S) and not blank.any()
    assert pairs["a"]["mask"].endswith("masks/a.png")


def test_class_folders_image_in_no_folder(tmp_path):
    root = tmp_path / "d"
    for name in ("a", "b"):
        _save(root / f"images/{name}.png", np.full((S, S, 3), 70, np.uint8))
    mask = np.zeros((S, S), np.uint8)
    mask[5:7, 5:9] = 255
    _save(root / "crack/a.png", mask)
    layout = Layout(masks=("crack", "hole"), mask_folders="classes", missing_mask="empty")
    (root / "hole").mkdir()
    pairs = _pairs(tmp_path, layout)
    with Image.open(pairs["b"]["mask"]) as im:
        assert im.mode == "P" and not np.asarray(im).any()
    with Image.open(pairs["a"]["mask"]) as im:
        assert (np.asarray(im) == (mask > 0)).all()  # class 1


def test_blank_takes_class_0s_colour_where_background_is_not_black(tmp_path):
    # colour masks on white (masks.colors' class 0): a black blank was a colour in no class,
    # refused by preprocess, or skipped with masks.unlisted: ignore (never learnt as background)
    from unet.common.labels import MaskMapping
    from unet.dataset.blank import blank_background

    root = tmp_path / "d"
    for name in ("a", "b"):
        _save(root / f"images/{name}.png", np.full((S, S, 3), 70, np.uint8))
    mask = np.full((S, S, 3), 255, np.uint8)
    mask[2:4, 2:4] = (255, 0, 0)
    _save(root / "masks/a.png", mask)
    colours = {"colors": [[255, 255, 255], [255, 0, 0]], "values": None}
    assert blank_background({"missing_mask": "empty"}, colours) == (255, 255, 255)
    assert blank_background({}, colours) is None  # no blank: download's params unchanged
    assert blank_background({"missing_mask": "empty"}, {"colors": None, "values": None}) is None
    assert blank_background({"missing_mask": "empty"}, {"values": [[255, 254], 0]}) == 255
    manifest = write_manifest(tmp_path / "out/manifest.json", "local", root,
                              Layout(missing_mask="empty"), blank=(255, 255, 255))
    blank = next(p["mask"] for p in manifest["pairs"] if p["id"] == "b")
    white, red = 0xFFFFFF, 0xFF0000
    assert not MaskMapping(values=(white, red), rgb=True).read_index(blank).any()


def test_blank_takes_class_0s_grey_value(tmp_path):
    root = tmp_path / "d"
    _save(root / "images/a.png", np.full((S, S), 50, np.uint8))
    _save(root / "images/b.png", np.full((S, S), 50, np.uint8))
    _save(root / "masks/a.png", np.full((S, S), 255, np.uint8))  # inverted: background 255
    manifest = write_manifest(tmp_path / "out/manifest.json", "local", root,
                              Layout(missing_mask="empty"), blank=255)
    blank = next(p["mask"] for p in manifest["pairs"] if p["id"] == "b")
    assert (np.asarray(Image.open(blank)) == 255).all()
