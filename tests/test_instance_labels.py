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


def _voc_palette() -> list[int]:
    """PASCAL VOC's colour map (index 255, the void border, is (224, 224, 192))."""
    out = []
    for i in range(256):
        r = g = b = 0
        for j in range(8):
            r |= ((i >> 3 * j) & 1) << (7 - j)
            g |= ((i >> 3 * j + 1) & 1) << (7 - j)
            b |= ((i >> 3 * j + 2) & 1) << (7 - j)
        out += [r, g, b]
    return out


def test_ignored_palette_index_stays_ignored_with_a_threshold(tmp_path):
    # VOC's SegmentationObject PNGs: palette indices 1..N, one per object, 255 on the void
    # border. With masks.threshold: 0 (every object foreground) and masks.ignore: 255, the
    # threshold read the palette's brightness and the ignore index never matched: the 150
    # border pixels trained and scored as objects.
    index = np.zeros((40, 24), np.uint8)
    for k in range(1, 6):
        index[7 * k - 5 : 7 * k, 4:20] = k
        index[[7 * k - 6, 7 * k], 4:20] = 255
    # a white object (luminance 255, the ignore value's number) is still an object
    index[36:39, 4:20] = 7
    palette = _voc_palette()
    palette[21:24] = [255, 255, 255]
    im = Image.fromarray(index, "P")
    im.putpalette(palette)
    im.save(tmp_path / "a.png")
    settings = PreprocessSettings(width=8, height=8, mask_threshold=0, mask_ignore=255,
                                  mask_values=(0, 1))
    mapping = choose_mapping([{"id": "a", "mask": str(tmp_path / "a.png")}], settings, 1)
    read = mapping.read_index(tmp_path / "a.png")
    assert np.array_equal(read == 255, index == 255)
    assert np.array_equal(read == 1, (index > 0) & (index < 255))


def test_instance_warning_names_a_mask(tmp_path):
    # The warning said "the first 6 training masks" without naming one to look at.
    from unet.cache.instance_labels import instance_note
    from unet.common.labels import MaskMapping

    paths = []
    for i in range(4):
        ids = np.zeros((20, 40), np.uint16)
        for k in range(3 + i):
            ids[2:8, 6 * k + 1 : 6 * k + 5] = k + 1
        paths.append(str(tmp_path / f"m{i}.tif"))
        Image.fromarray(ids).save(paths[-1])
    note = instance_note(paths, MaskMapping(tuple(range(7))))
    assert note is not None and f"e.g. {paths[0]}" in note


def test_too_many_values_name_the_masks_that_hold_them():
    # Detected values past 255 (a noisy or 16-bit instance-label mask) skipped the
    # masks.max_values refusal, which names the masks holding the most values and the lossy
    # (threshold 127) fix, for one naming no file.
    where = "; the most in m/a.png (300 values)"
    with pytest.raises(MaskValueError, match=r"300 distinct values.*max_values=16; the most in "
                       r"m/a.png.*masks.threshold: 127.*masks.threshold: 0"):
        mapping_from_values(set(range(300)), None, None, 16, where=where)


def test_predicting_new_images_does_not_import_scipy_ndimage():
    # unet predict imports predict_folder, which reaches this check (unused there) through
    # unet.cache.preprocess: scipy.ndimage cost 0.5-0.7 s of every run's start
    import subprocess
    import sys

    code = "import sys, unet.infer.predict_folder; print('scipy.ndimage' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
