"""evaluate.objects with ids drawn under masks.separate: a drawn id names one annotation, so an
object drawn in several parts (COCO's occluded object, an RLE row of several blobs) is one true
object, where the source masks' ids (anti-aliased greys, tests/test_objects_smear.py) are not
joined; predicted objects stay the mask's 8-connected blobs."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from tests.test_rle_separate import _rows
from unet.dataset.download import download_dataset
from unet.evaluate.objects import image_objects, score_objects

H, W, IGN = 24, 30, 255
# one object drawn as two squares (36 + 16 px), another of 36 px
PARTS = [[(2, 8, 2, 8), (2, 6, 20, 24)], [(14, 20, 10, 16)]]


def _ring(y0, y1, x0, x1) -> list[float]:
    return [x0, y0, x1, y0, x1, y1, x0, y1]


def _coco(root) -> dict:
    """PARTS as two COCO annotations, the first a list of two polygons (an occluded object)."""
    anns = [{"id": n, "image_id": 1, "category_id": 1, "iscrowd": 0,
             "segmentation": [_ring(*box) for box in boxes]} for n, boxes in enumerate(PARTS, 1)]
    (root / "ann.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.png", "width": W, "height": H}],
        "annotations": anns, "categories": [{"id": 1, "name": "cell"}]}))
    return {"coco": {"json": "ann.json"}}


def _rle(root) -> dict:
    """PARTS as Sartorius-like RLE rows, the first one row of two blobs."""
    with open(root / "train.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id", "annotation"])
        for boxes in PARTS:
            m = np.zeros((H, W), bool)
            for y0, y1, x0, x1 in boxes:
                m[y0:y1, x0:x1] = True
            out.writerow(["a", _rows(m)])
    return {"rle": {"csv": "train.csv", "id_column": "id", "rle_column": "annotation",
                    "order": "rows", "class_column": None, "absent": "unpaired"}}


@pytest.mark.parametrize("layout", [_coco, _rle])
def test_an_object_drawn_in_two_parts_is_one_true_object(tmp_path, layout):
    root = tmp_path / "data"
    (root / "imgs").mkdir(parents=True)
    Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(root / "imgs/a.png")
    manifest = download_dataset(tmp_path / "out/manifest.json", "local", {
        "path": str(root), "images": "imgs", **layout(root), "separate_objects": True})
    pair = manifest["pairs"][0]
    target = (np.asarray(Image.open(pair["mask"])) > 0).astype(np.uint8)
    assert ndimage.label(target, np.ones((3, 3)))[1] == 3  # three blobs drawn
    n = score_objects(target, {"raw": target}, pair["mask_objects"], range(1, 2), IGN,
                      drawn=True)["raw"]["1"]
    # two true objects (before: 3, TP 3, PQ 1); the exact mask's three blobs: the 36 px part
    # matches the 52 px object (IoU 36/52), the 16 px part is FP (16/52), the other TP (IoU 1)
    assert (n["true"], n["predicted"], n["tp"], n["fp"], n["fn"]) == (2, 3, 2, 1, 0)
    assert n["iou_sum"] == pytest.approx(36 / 52 + 1)
    assert n["iou_sum"] / (n["tp"] + n["fp"] / 2 + n["fn"] / 2) == pytest.approx(0.676923, 1e-5)
    # the source-mask path is not changed: the same ids read as source ids stay 3 objects
    ids = np.asarray(Image.open(pair["mask_objects"]))
    assert image_objects(target, target, 1, ids, IGN)["true"] == 3


def _drawn(target: np.ndarray, ids: np.ndarray, pred: np.ndarray) -> dict:
    return image_objects(target, pred, 1, ids, IGN, exact_ids=True)


def test_a_prediction_of_both_parts_in_one_blob_is_one_match():
    ids = np.zeros((8, 14), np.uint16)
    ids[1:5, 1:5], ids[1:5, 8:12] = 1, 1  # one id, two 16 px parts
    target = (ids > 0).astype(np.uint8)
    pred = target.copy()
    pred[2:4, 5:8] = 1  # a bridge of 6 px: one blob over both parts
    n = _drawn(target, ids, pred)
    assert (n["true"], n["predicted"], n["tp"], n["fp"], n["fn"]) == (1, 1, 1, 0, 0)
    assert n["iou_sum"] == pytest.approx(32 / 38)
    # equal parts predicted apart: IoU 16/32 each, not above 0.5: no match
    assert (lambda m: (m["tp"], m["fp"], m["fn"]))(_drawn(target, ids, target)) == (0, 2, 1)


def test_an_ignored_band_still_cuts_a_drawn_object_alike():
    # one drawn id cut by an ignored column: its parts stay apart, as the prediction's blobs
    ids = np.zeros((6, 13), np.uint16)
    ids[1:5, 1:12] = 7
    target = (ids > 0).astype(np.uint8)
    target[:, 6] = IGN
    pred = (ids > 0).astype(np.uint8)
    n = _drawn(target, ids, pred)
    assert (n["true"], n["predicted"], n["tp"], n["fp"], n["fn"]) == (2, 2, 2, 0, 0)


def _slow(target: np.ndarray, ids: np.ndarray) -> int:
    """True objects counted one id at a time: an id is one unless ignored pixels join two of
    its parts (its blobs of the truth); id 0's parts each one."""
    truth, eight = target == 1, np.ones((3, 3))
    blobs = ndimage.label(truth, eight)[0]
    whole = ndimage.label(truth | (target == IGN), eight)[0]
    total = 0
    for v in np.unique(ids[truth]):
        parts = {int(b) for b in blobs[truth & (ids == v)]}
        rejoined = {int(whole[blobs == b][0]) for b in parts}
        total += len(parts) if v == 0 or len(rejoined) < len(parts) else 1
    return total


def _random(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(target, ids) of 8 ids each drawn as 1-3 rectangles (the later wins), an ignored row or
    column across some, and ignored specks."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((40, 40), np.uint16)
    for v in range(1, 9):
        for _ in range(rng.integers(1, 4)):
            y, x = rng.integers(0, 36, 2)
            ids[y:y + rng.integers(2, 6), x:x + rng.integers(2, 6)] = v
    target = (ids > 0).astype(np.uint8)
    target[rng.integers(0, 40), :] = IGN
    target[:, rng.integers(0, 40)] = IGN
    target[rng.random((40, 40)) < 0.02] = IGN
    return target, ids


@pytest.mark.parametrize("seed", range(6))
def test_drawn_objects_match_a_count_one_id_at_a_time(seed):
    target, ids = _random(seed)
    assert _drawn(target, ids, target)["true"] == _slow(target, ids)
