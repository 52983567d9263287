"""Instance label masks (one id per object) used for semantic segmentation: every object
becomes foreground with masks.threshold: 0, whatever way the ids are stored."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet.cache.mapping import choose_mapping
from unet.cache.settings import PreprocessSettings
from unet.cache.values import mapping_from_values
from unet.common.labels import MaskValueError

# Ids stored in the colour channels (COCO panoptic PNGs: id = R + 256 G + 65536 B): ids above
# 255 in an 8-bit file; (1, 0, 0) and (0, 0, 1) are nearly black, but not black.
PANOPTIC_IDS = [1, 2, 256, 257, 300, 65536, 65537, 70000]


def _panoptic(path) -> np.ndarray:
    """Write a 12x40 RGB mask of PANOPTIC_IDS' squares; returns the ids (H, W)."""
    ids = np.zeros((12, 5 * len(PANOPTIC_IDS)), np.int64)
    for k, v in enumerate(PANOPTIC_IDS):
        ids[3:8, 5 * k : 5 * k + 4] = v
    rgb = np.stack([ids & 255, (ids >> 8) & 255, (ids >> 16) & 255], -1).astype(np.uint8)
    Image.fromarray(rgb).save(path)
    return ids


def test_threshold_0_makes_every_colour_encoded_id_foreground(tmp_path):
    ids = _panoptic(tmp_path / "a.png")
    settings = PreprocessSettings(width=8, height=8, mask_threshold=0)
    mapping = choose_mapping([{"id": "a", "mask": str(tmp_path / "a.png")}], settings, 1)
    index = mapping.read_index(tmp_path / "a.png")
    lost = sorted({int(v) for v in ids[(ids > 0) & (index == 0)]})
    assert lost == []  # were 1, 65536 and 65537: their luminance rounded to 0
    assert np.array_equal(index == 1, ids > 0)


@pytest.mark.parametrize("count", [256, 300])
def test_more_classes_than_indices_are_refused(count):
    # Class index 255 marks ignored pixels: with max_values raised for 256 instance ids, class
    # 255's objects were skipped silently, and index 257 wrapped to class 1 (uint8).
    with pytest.raises(MaskValueError, match=rf"{count} distinct values.*at most 255 classes"
                       r".*masks.threshold: 0"):
        mapping_from_values(set(range(count)), None, None, 1000)
    with pytest.raises(MaskValueError, match=rf"masks.values lists {count} classes"):
        mapping_from_values(set(), list(range(count)), None, 16)


def test_255_classes_are_taken():
    assert mapping_from_values(set(range(255)), None, None, 1000).num_classes == 255


def test_too_many_colours_are_named_as_colours(tmp_path):
    # An instance mask painted one random colour per object: the refusal read "0 to 14419338"
    # (packed 0xRRGGBB integers) and pointed at masks.values.
    rng = np.random.default_rng(0)
    rgb = np.zeros((20, 100, 3), np.uint8)
    for k in range(20):
        rgb[5:10, 5 * k : 5 * k + 4] = rng.integers(1, 256, 3)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    settings = PreprocessSettings(width=8, height=8)
    with pytest.raises(MaskValueError) as err:
        choose_mapping([{"id": "a", "mask": str(tmp_path / "a.png")}], settings, 1)
    message = str(err.value)
    assert "21 distinct colours" in message and "(0, 0, 0) to" in message
    assert "masks.colors" in message and "masks.values" not in message
    assert "masks.threshold: 0" in message
