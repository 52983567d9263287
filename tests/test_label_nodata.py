"""Label GeoTIFFs mark unlabelled pixels with GDAL's nodata tag: with detected mask values and
no masks.ignore, that value was trained (and scored) as a class of its own without a word
unless it happened to be 255 far above the others."""

from __future__ import annotations

import logging

import numpy as np
import tifffile

from unet.cache.class_checks import describe_classes
from unet.common.labels import MaskMapping

NODATA = 42113


def _labels(path, fill: int | None):
    lab = np.zeros((20, 30), np.uint8)
    lab[5:10] = 1
    lab[10:15] = 2
    lab[15:] = 99  # the fill outside the surveyed area
    tags = [] if fill is None else [(NODATA, "s", 0, str(fill), True)]
    tifffile.imwrite(path, lab, photometric="minisblack", extratags=tags)
    return str(path)


def _warnings(caplog, masks, ignore=None) -> str:
    counts = np.array([150, 150, 150, 150])
    with caplog.at_level(logging.WARNING):
        describe_classes(counts, MaskMapping((0, 1, 2, 99), ignore), False, masks)
    return " ".join(r.getMessage() for r in caplog.records)


def test_a_label_geotiffs_nodata_value_trained_as_a_class_is_named(tmp_path, caplog):
    masks = [_labels(tmp_path / "plain.tif", None), _labels(tmp_path / "s01.tif", 99)]
    said = _warnings(caplog, masks)
    assert "s01.tif" in said and "nodata" in said and "masks.ignore: 99" in said, said
    assert "class 3" in said, said


def test_no_word_without_the_tag_or_with_the_value_ignored(tmp_path, caplog):
    assert "nodata" not in _warnings(caplog, [_labels(tmp_path / "plain.tif", None)])
    tagged = [_labels(tmp_path / "s01.tif", 99)]
    assert "nodata" not in _warnings(caplog, tagged, ignore=99)
    assert "nodata" not in _warnings(caplog, [_labels(tmp_path / "other.tif", 7)])


def test_the_nodata_value_is_named_when_masks_ignore_skips_another(tmp_path, caplog):
    """masks.ignore set to a tool's border value (255) silenced the warning, though the
    GeoTIFF nodata fill (99) was still trained and scored as a class of its own."""
    said = _warnings(caplog, [_labels(tmp_path / "s01.tif", 99)], ignore=255)
    assert "s01.tif" in said and "class 3" in said and "masks.unlisted: ignore" in said, said
    assert "masks.ignore: 99" not in said, said  # one ignore value: 255 is taken
