"""preprocess's class checks re-read the masks at full size to say why a class is missing from
the cache: they left out roi's outside but not dataset.<source>.ignore_regions', so a class
lying only inside the regions to ignore (which the cache leaves out) was blamed on the resize
("objects too small to survive the cache's resize") instead of on the regions."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from PIL import Image

from tests.test_ignore_regions import VAGUE, H, W, _manifest, _nuinsseg, _truth, _vague
from unet.cache.preprocess import preprocess
from unet.cache.settings import PreprocessSettings
from unet.common.fileio import write_json
from unet.common.labels import MaskValueError


def _cache(root, values) -> dict:
    ids = [p["id"] for p in _manifest(root)["pairs"]]
    write_json(root / "split.json", {"train": ids[:4], "val": ids[4:6], "test": ids[6:]})
    return preprocess(root / "manifest.json", root / "split.json", root / "cache",
                      PreprocessSettings(width=W, height=H, mask_values=values))


def test_a_class_only_inside_the_regions_to_ignore_is_named_so(tmp_path, caplog):
    _nuinsseg(tmp_path, without=())  # every image has its vague band
    for i in range(8):  # class 2 (128): only in the vague band, outside the nuclei
        mask = _truth() * 255
        mask[VAGUE] = np.where(mask[VAGUE] == 0, 128, mask[VAGUE])
        Image.fromarray(mask.astype(np.uint8)).save(tmp_path / f"labels/s{i}.png")
    with caplog.at_level(logging.WARNING):
        _cache(tmp_path, (0, 255, 128))
    note = next(r.getMessage() for r in caplog.records if "class 2" in r.getMessage())
    assert "inside their regions to ignore" in note and "vague/s" in note, note
    assert "too small" not in note


def test_masks_whose_objects_lie_only_inside_the_regions_are_refused_naming_them(tmp_path):
    _nuinsseg(tmp_path, without=())
    for i in range(8):  # every nucleus inside the vague band
        Image.fromarray(_vague().astype(np.uint8) * 255).save(tmp_path / f"labels/s{i}.png")
    with pytest.raises(MaskValueError, match="inside their regions to ignore") as err:
        _cache(tmp_path, (0, 255))
    assert "too small" not in str(err.value) and "dataset.<source>.ignore_regions" in str(err.value)
