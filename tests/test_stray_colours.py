"""A colour no class lists is refused by preprocess wherever it lies in the full-size mask,
naming the file, the colour and its pixel count: the cache's nearest-neighbour resize samples
one pixel in several, and a stray colour it skipped was refused only by evaluate_masks, after
training."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tests.conftest import write_inputs
from unet.cache.preprocess import preprocess
from unet.cache.settings import settings_from_config
from unet.common.labels import MaskValueError

COLOURS = ((0, 0, 0), (128, 64, 128), (64, 0, 128))  # CamVid's void, road and car


def _pairs(tmp_path, stray: dict[int, tuple[int, int, int]]) -> list[dict]:
    """Five 64x48 pairs of road and car; mask i holds 3 px of stray[i] (a resize's blend)."""
    pairs = []
    for i in range(5):
        cls = np.zeros((48, 64), np.uint8)
        cls[:, 20 + i:] = 1
        cls[30:, :10] = 2
        rgb = np.array(COLOURS, np.uint8)[cls]
        if i in stray:
            rgb[1, 1:4] = stray[i]  # between samples of a 64 -> 16 nearest resize
        img, msk = tmp_path / f"f{i}.png", tmp_path / f"f{i}_L.png"
        Image.fromarray(np.full((48, 64, 3), 90, np.uint8)).save(img)
        Image.fromarray(rgb).save(msk)
        pairs.append({"id": f"f{i}", "image": str(img), "mask": str(msk), "size": [64, 48]})
    write_inputs(tmp_path, pairs)
    return pairs


def _run(tmp_path, **masks) -> dict:
    settings = settings_from_config({"width": 16, "height": 12}, {
        "values": None, "colors": [list(c) for c in COLOURS], "threshold": None,
        "ignore": None, **masks})
    return preprocess(tmp_path / "manifest.json", tmp_path / "split.json", tmp_path / "cache",
                      settings)


@pytest.mark.parametrize("at", [0, 3])  # a training mask, and a test mask
def test_a_stray_colour_the_resize_skips_is_refused_by_name_and_count(tmp_path, at):
    _pairs(tmp_path, {at: (127, 65, 129)})
    with pytest.raises(MaskValueError) as err:
        _run(tmp_path)
    said = str(err.value)
    assert f"f{at}_L.png" in said and "(127, 65, 129)" in said and "3 px" in said
    assert not (tmp_path / "cache" / "meta.json").exists()


def test_a_clean_data_set_caches_as_before(tmp_path):
    meta = _run(tmp_path) if _pairs(tmp_path, {}) else None
    assert meta["num_classes"] == 3 and meta["splits"]["train"]["class_counts"][2] > 0


def test_grey_index_masks_read_with_a_colour_table_are_refused_with_the_fix(tmp_path):
    # The Semantic Drone Dataset ships class indices (label_images_semantic) beside colour
    # masks (RGB_color_image_masks); its class_dict_seg.csv lists the colours
    pairs = _pairs(tmp_path, {})
    for p in pairs:
        rgb = np.asarray(Image.open(p["mask"]))
        index = np.select([(rgb == c).all(-1) for c in COLOURS], range(3)).astype(np.uint8)
        Image.fromarray(index).save(p["mask"])  # grey 0, 1, 2
    with pytest.raises(MaskValueError) as err:
        _run(tmp_path)
    said = str(err.value)
    assert "f0_L.png" in said and "grey" in said and "masks.values: [0, 1, 2]" in said
