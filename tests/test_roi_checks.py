"""The cache's checks when the regions of interest (dataset.<source>.roi) are what leave a
split without labelled or scored pixels: an inverted or blank field-of-view file. Before, the
messages blamed the resize ("objects too small to survive the cache's resize") or
masks.ignore, which may not even be set, and gave their fixes instead of the files'."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.test_roi import _drive, _fov, _manifest
from tests.test_value_spaces import H, W
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.common.labels import MaskValueError


def _cache(root: Path, rois: dict[str, np.ndarray]) -> dict:
    """Preprocess DRIVE-like data whose images `rois` names get that region of interest."""
    _drive(root)
    for i, region in rois.items():
        Image.fromarray(region.astype(np.uint8) * 255).save(root / f"fov/{i}_training_mask.gif")
    ids = [p["id"] for p in _manifest(root)["pairs"]]
    write_json(root / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:]})
    return preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=W, height=H))


def test_validation_without_objects_inside_its_rois_names_them(tmp_path):
    inverted = {i: ~_fov() for i in ("24", "25")}  # the discs lie inside the field of view
    with pytest.raises(MaskValueError) as err:
        _cache(tmp_path, inverted)
    message = str(err.value)
    assert "24_training_mask.gif" in message and "region of interest" in message
    assert "too small" not in message


def test_an_image_with_a_blank_roi_is_named_with_it(tmp_path, caplog):
    with caplog.at_level("WARNING"):
        _cache(tmp_path, {"27": np.zeros((H, W), bool)})
    line = next(r.getMessage() for r in caplog.records if "no labelled pixel" in r.getMessage())
    assert "27" in line and "27_training_mask.gif" in line and "region of interest" in line
    assert "masks.ignore" not in line  # no masks.ignore is set


def test_a_test_split_without_objects_inside_its_rois_is_not_blamed_on_the_resize(
        tmp_path, caplog):
    with caplog.at_level("WARNING"):
        _cache(tmp_path, {i: ~_fov() for i in ("26", "27")})
    line = next(r.getMessage() for r in caplog.records if "test split" in r.getMessage())
    assert "26_training_mask.gif" in line and "too small" not in line
