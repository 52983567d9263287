"""Masks as annotation tools export them: CVAT's "Segmentation mask 1.1" writes a mask for
every frame of a task, annotated or not, in the labelmap's colours."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image

from tests.test_value_spaces import H, W, _disc, _preprocess, _write_split
from unet.cache.settings import settings_from_config

COLOURS = [[0, 0, 0], [250, 50, 83], [51, 221, 255]]  # labelmap.txt: background, car, road


def _cvat_export(root: Path, blank: set[int]) -> None:
    """SegmentationClass/ colour masks of 8 frames, those in `blank` all background (frames
    nobody annotated: CVAT still writes their masks and lists them in default.txt)."""
    rng = np.random.default_rng(3)
    pairs = []
    for d in ("JPEGImages", "SegmentationClass"):
        (root / d).mkdir()
    for i in range(8):
        cls = np.zeros((H, W), np.uint8)
        if i not in blank:
            cls[_disc(i) > 0.5], cls[:, : 6 + i] = 1, 2
        img, msk = root / f"JPEGImages/f{i}.jpg", root / f"SegmentationClass/f{i}.png"
        Image.fromarray(rng.integers(0, 255, (H, W, 3), np.uint8)).save(img)
        Image.fromarray(np.array(COLOURS, np.uint8)[cls]).save(msk)
        pairs.append({"id": f"f{i}", "image": str(img), "mask": str(msk), "size": [W, H]})
    _write_split(root, pairs)


def test_all_background_masks_of_a_mask_folder_are_named(tmp_path, caplog):
    # A COCO export's images without objects were named in the download log, but the same
    # frames in CVAT's mask export were trained as background without a word.
    _cvat_export(tmp_path, blank={1, 5})
    masks = {"values": None, "colors": COLOURS, "threshold": None, "max_values": 16,
             "ignore": None}
    with caplog.at_level(logging.WARNING):
        _preprocess(tmp_path, settings_from_config({"width": W, "height": H}, masks))
    note = [r.getMessage() for r in caplog.records if "only background" in r.getMessage()]
    assert len(note) == 1 and "2 of 8 masks" in note[0] and "f1, f5" in note[0]
    assert "split.exclude_ids" in note[0]


def test_no_note_when_every_mask_holds_an_object(tmp_path, caplog):
    _cvat_export(tmp_path, blank=set())
    masks = {"values": None, "colors": COLOURS, "threshold": None, "max_values": 16,
             "ignore": None}
    with caplog.at_level(logging.WARNING):
        _preprocess(tmp_path, settings_from_config({"width": W, "height": H}, masks))
    assert "only background" not in caplog.text


def test_background_slices_of_grouped_volumes_are_not_called_unannotated(tmp_path, caplog):
    # A Decathlon volume's slices above and below the organ hold only background, truly: the
    # note told the user to leave them out as frames nobody annotated, and a model trained
    # without them marks organ on every slice of a new volume
    import json

    _cvat_export(tmp_path, blank={1, 5})
    split = json.loads((tmp_path / "split.json").read_text())
    split["groups"] = {"train": 2, "val": 1, "test": 1}  # split.group_by: a case a group
    (tmp_path / "split.json").write_text(json.dumps(split))
    masks = {"values": None, "colors": COLOURS, "threshold": None, "max_values": 16,
             "ignore": None}
    with caplog.at_level(logging.WARNING):
        _preprocess(tmp_path, settings_from_config({"width": W, "height": H}, masks))
    (note,) = [r.getMessage() for r in caplog.records if "only background" in r.getMessage()]
    assert "2 of 8 masks" in note and "split.group_by" in note and "keep" in note
