"""evaluate.objects: object counts and scores checked against hand-computed numbers and a
brute-force reference (a mask per object, every pair's IoU)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from tests.objects_reference import reference
from unet.evaluate.objects import (
    image_objects,
    object_source,
    score_objects,
    scores,
    summarise_objects,
)

IGN = 255  # the ignored class index in these targets


def _one(target: np.ndarray, pred: np.ndarray, ids: np.ndarray | None = None) -> dict:
    n = image_objects(target, pred, 1, ids, IGN)
    return {**n, **scores(n)}


def test_merged_pair_matches_the_larger_object_only():
    # two touching nuclei, 4x5 (id 1) and 4x3 (id 2); the prediction one 4x8 blob.
    # IoU(1, blob) = 20/32 = 0.625 > 0.5: a match; IoU(2, blob) = 12/32: the pair's second is missed
    ids = np.zeros((6, 10), np.uint16)
    ids[1:5, 1:6], ids[1:5, 6:9] = 1, 2
    target = (ids > 0).astype(np.uint8)
    pred = target.copy()
    s = _one(target, pred, ids)
    assert (s["true"], s["predicted"], s["tp"], s["fp"], s["fn"]) == (2, 1, 1, 0, 1)
    assert s["precision"] == 1 and s["recall"] == 0.5 and s["f1"] == pytest.approx(2 / 3)
    assert s["mean_matched_iou"] == pytest.approx(0.625)
    assert s["panoptic_quality"] == pytest.approx(0.625 / (1 + 0 + 0.5))
    # thresholds 0.5, 0.55, 0.6 below 0.625: 1 / (1 + 0 + 1); the other 7: 0 / (0 + 1 + 2)
    assert s["dsb_score"] == pytest.approx(3 * 0.5 / 10)
    # the same pixels by components: one true object, one predicted, IoU 1
    c = _one(target, pred)
    assert (c["true"], c["tp"], c["fp"], c["fn"], c["dsb_score"]) == (1, 1, 0, 0, 1.0)


def test_equal_merged_pair_is_no_match():
    # two 4x4 objects merged: each IoU exactly 0.5, not above it
    ids = np.zeros((4, 8), np.uint16)
    ids[:, :4], ids[:, 4:] = 1, 2
    s = _one((ids > 0).astype(np.uint8), (ids > 0).astype(np.uint8), ids)
    assert (s["tp"], s["fp"], s["fn"], s["f1"], s["dsb_score"]) == (0, 1, 2, 0.0, 0.0)
    assert s["mean_matched_iou"] is None and s["panoptic_quality"] == 0.0


def test_split_object_speck_and_missed_object():
    target = np.zeros((12, 12), np.uint8)
    target[0:4, 0:8] = 1  # split: predicted as 4x5 and 4x2 with a gap column
    target[8:11, 8:11] = 1  # missed: 3x3, nothing predicted on it
    pred = np.zeros_like(target)
    pred[0:4, 0:5], pred[0:4, 6:8] = 1, 1  # IoU 20/32 = 0.625 and 8/32
    pred[10, 0] = 1  # a false speck
    s = _one(target, pred)
    assert (s["true"], s["predicted"], s["tp"], s["fp"], s["fn"]) == (2, 3, 1, 2, 1)
    assert s["precision"] == pytest.approx(1 / 3) and s["recall"] == 0.5
    assert s["f1"] == pytest.approx(2 / (2 + 2 + 1))
    assert s["panoptic_quality"] == pytest.approx(0.625 / (1 + 1 + 0.5))
    # TP_t = 1 at 0.5, 0.55, 0.6: 1 / (1 + 2 + 1); else 0
    assert s["dsb_score"] == pytest.approx(3 * 0.25 / 10)


def test_diagonal_pixels_are_one_object():
    target = np.eye(4, dtype=np.uint8)
    s = _one(target, target)
    assert (s["true"], s["predicted"], s["tp"]) == (1, 1, 1)


def test_ignored_band_is_left_out_of_iou_and_counts():
    target = np.zeros((8, 12), np.uint8)
    target[0:4, 0:4] = 1
    target[:, 3] = IGN  # ignored band over the object's last column and rows below
    target[6, 8:10] = IGN  # an ignored patch
    pred = np.zeros_like(target)
    pred[0:4, 0:3] = 1  # the object's scored 12 px exactly: IoU 1
    pred[0:4, 3] = 1  # and into the band, ignored
    pred[6, 8:10] = 1  # a predicted object wholly on ignored pixels: not counted
    s = _one(target, pred)
    assert (s["true"], s["predicted"], s["tp"], s["fp"], s["fn"]) == (1, 1, 1, 0, 0)
    assert s["mean_matched_iou"] == 1.0
    # without the band, the object is 16 px and predicted 16 px: the same; its pixels counted
    # as background instead, the prediction's 4 band pixels would cut IoU to 12/16
    bg = np.where(target == IGN, 0, target).astype(np.uint8)
    assert _one(bg, pred)["mean_matched_iou"] == pytest.approx(12 / 16)


def test_set_sums_counts_and_leaves_out_empty_images():
    a = {"true": 2, "predicted": 1, "tp": 1, "fp": 0, "fn": 1, "split": 0, "merged": 1,
         "iou_sum": 0.625,
         "tp_at": [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]}
    b = {"true": 1, "predicted": 2, "tp": 1, "fp": 1, "fn": 0, "split": 1, "merged": 0,
         "iou_sum": 0.9,
         "tp_at": [1] * 8 + [0, 0]}
    empty = {"true": 0, "predicted": 0, "tp": 0, "fp": 0, "fn": 0, "split": 0, "merged": 0,
             "iou_sum": 0.0,
             "tp_at": [0] * 10}
    s = summarise_objects([a, empty, b])
    assert (s["images"], s["images_empty"], s["tp"], s["fp"], s["fn"]) == (2, 1, 2, 1, 1)
    assert (s["split"], s["merged"]) == (1, 1)
    assert s["panoptic_quality"] == pytest.approx(1.525 / (2 + 0.5 + 0.5))
    assert s["mean_matched_iou"] == pytest.approx(1.525 / 2)
    dsb_a, dsb_b = 3 * 0.5 / 10, (8 * 1 / 2 + 2 * 0 / 3) / 10
    assert s["dsb_score_mean_per_image"] == pytest.approx((dsb_a + dsb_b) / 2)
    # set DSB from summed counts: TP_t 2 (t <= 0.6), 1 (0.65..0.85), 0; true + predicted = 6
    assert s["dsb_score"] == pytest.approx((3 * 2 / 4 + 5 * 1 / 5 + 2 * 0) / 10)
    assert summarise_objects([empty])["dsb_score"] is None


@pytest.mark.parametrize("seed", range(12))
def test_matches_brute_force_on_random_labels(seed):
    rng = np.random.default_rng(seed)
    # blocky ids (objects of a few px to many) and a prediction of them, eroded, shifted, specked
    ids = np.kron(rng.integers(0, 9, (8, 8)), np.ones((5, 5), np.int64)).astype(np.uint16)
    ids = np.where(rng.random(ids.shape) < 0.05, 0, ids).astype(np.uint16)
    target = (ids > 0).astype(np.uint8)
    target[rng.random(ids.shape) < 0.03] = IGN
    pred = np.roll(ids > 0, rng.integers(-2, 3), axis=1) ^ (rng.random(ids.shape) < 0.04)
    got = image_objects(target, pred.astype(np.uint8), 1, ids, IGN)
    want = reference(np.where(target == 1, ids, 0), pred, target != IGN, ids)
    assert got["iou_sum"] == pytest.approx(want.pop("iou_sum"))
    assert got["seg_sum"] == pytest.approx(want.pop("seg_sum"))
    assert {k: got[k] for k in want} == want
    # by components too
    comp, _ = ndimage.label(target == 1, structure=np.ones((3, 3)))
    got = image_objects(target, pred.astype(np.uint8), 1, None, IGN)
    want = reference(comp, pred, target != IGN)
    assert got["iou_sum"] == pytest.approx(want.pop("iou_sum"))
    assert got["seg_sum"] == pytest.approx(want.pop("seg_sum"))
    assert {k: got[k] for k in want} == want


def test_true_objects_come_from_the_source_ids(tmp_path):
    # 16-bit instance labels binarised by a threshold: ids read from the source file
    ids = np.zeros((6, 10), np.uint16)
    ids[1:5, 1:6], ids[1:5, 6:9] = 300, 7
    Image.fromarray(ids).save(tmp_path / "m.png")
    pair = {"mask": str(tmp_path / "m.png")}
    assert object_source(pair, 0) == ("ids", pair["mask"])
    assert object_source(pair, None) == ("components", None)
    assert object_source({**pair, "mask_objects": "o.png"}, 0) == ("drawn", "o.png")
    target = (ids > 0).astype(np.uint8)
    got = score_objects(target, {"raw": target}, pair["mask"], range(1, 2), IGN)
    assert (got["raw"]["1"]["true"], got["raw"]["1"]["tp"], got["raw"]["1"]["fn"]) == (2, 1, 1)
    with pytest.raises(ValueError, match="m.png are 10x6 but the ground truth is 5x6"):
        score_objects(target[:, :5], {"raw": target[:, :5]}, pair["mask"], range(1, 2), IGN)


def test_evaluate_masks_scores_the_source_ids_of_thresholded_labels(tmp_path):
    """evaluate_masks with masks.threshold: the true objects are the 16-bit label file's ids,
    not the binarised mask's components, in summary.json and per_image.csv."""
    import csv
    import json

    from unet.evaluate.evaluate import evaluate_masks

    ids = np.zeros((6, 10), np.uint16)
    ids[1:5, 1:6], ids[1:5, 6:9] = 300, 7  # touching: one component, two nuclei
    Image.fromarray(ids).save(tmp_path / "a_gt.png")
    (tmp_path / "pred").mkdir()
    Image.fromarray(np.where(ids > 0, 65535, 0).astype(np.uint16)).save(tmp_path / "pred/a.png")
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"pairs": [{"id": "a", "mask": str(tmp_path / "a_gt.png")}]}))
    meta = {"class_values": [0, 65535], "mask_threshold": 0, "mask_bits": 16,
            "splits": {"test": {"ids": ["a"]}}}
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    summary = evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json",
                             {"raw": tmp_path / "pred"}, tmp_path / "per_image.csv",
                             tmp_path / "summary.json", objects=True)
    assert summary["methods"]["raw"]["classes"]["1"]["global"]["dice"] == 1.0  # pixels: perfect
    s = summary["methods"]["raw"]["objects"]["1"]
    assert summary["objects_source"] == ["instance ids of the source masks (masks.threshold)"]
    assert (s["true"], s["predicted"], s["tp"], s["fp"], s["fn"]) == (2, 1, 1, 0, 1)
    assert s["dsb_score"] == pytest.approx(0.15) and s["images_empty"] == 0
    with open(tmp_path / "per_image.csv") as f:
        row = [r for r in csv.DictReader(f) if r["class"] == "1"][0]
    assert (row["objects_true"], row["objects_fn"], row["objects_dsb_score"]) == ("2", "1", "0.15")
    assert "objects" not in evaluate_masks(  # off: no key, as before
        tmp_path / "manifest.json", tmp_path / "meta.json", {"raw": tmp_path / "pred"},
        tmp_path / "per_image.csv", tmp_path / "summary.json")["methods"]["raw"]


def test_a_thresholded_binary_mask_counts_each_blob(tmp_path):
    """masks.threshold also binarises plain 0/255 masks: their one value 255 is no instance id,
    so two apart blobs are two true objects (each id's 8-connected parts), not one."""
    mask = np.zeros((6, 12), np.uint8)
    mask[1:4, 1:4], mask[1:4, 7:11] = 255, 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    target = (mask > 0).astype(np.uint8)
    got = score_objects(target, {"raw": target}, str(tmp_path / "m.png"), range(1, 2), IGN)
    assert (got["raw"]["1"]["true"], got["raw"]["1"]["tp"]) == (2, 2)


@pytest.mark.parametrize("name", ["m.jpg", "m.tif"])
def test_smeared_or_soft_values_are_no_ids(tmp_path, name):
    """A JPEG mask's smear (250..255 inside one blob) and a soft float mask's values are no
    instance ids: their true objects are the components of the thresholded mask."""
    values = np.zeros((8, 8), np.float32 if name.endswith("tif") else np.uint8)
    values[1:7, 1:7] = np.linspace(0.6, 1.0, 36).reshape(6, 6) if name.endswith("tif") else (
        250 + np.arange(36).reshape(6, 6) % 6)
    if name.endswith("tif"):
        import tifffile
        tifffile.imwrite(tmp_path / name, values)
    else:
        Image.fromarray(values).save(tmp_path / name, quality=100)
    pair = {"mask": str(tmp_path / name)}
    assert object_source(pair, 0.5)[0] == "components" or name.endswith("tif")
    target = np.zeros((8, 8), np.uint8)
    target[1:7, 1:7] = 1
    got = score_objects(target, {"raw": target}, object_source(pair, 0.5)[1], range(1, 2), IGN)
    assert (got["raw"]["1"]["true"], got["raw"]["1"]["tp"]) == (1, 1)


def test_seg_is_the_cell_tracking_challenges_measure():
    # CTC's SEG: each true object's Jaccard with the predicted object covering more than half
    # of it, 0 where none does, averaged over the true objects. Two touching nuclei, 4x5 (id 1)
    # and 4x3 (id 2), predicted as one 4x8 blob: it covers both, J 20/32 and 12/32; a third
    # true object, 3x3, half-covered by a 3x2 prediction (6 of 9 px: > half, J 6/9), and a
    # fourth missed (J 0). IoU matching (mean_matched_iou) would count 0.625 and 6/9 only.
    ids = np.zeros((12, 12), np.uint16)
    ids[1:5, 1:6], ids[1:5, 6:9] = 1, 2
    ids[7:10, 0:3], ids[7:10, 8:11] = 3, 4
    target = (ids > 0).astype(np.uint8)
    pred = np.zeros_like(target)
    pred[1:5, 1:9], pred[7:10, 0:2] = 1, 1
    s = _one(target, pred, ids)
    assert s["seg"] == pytest.approx((20 / 32 + 12 / 32 + 6 / 9 + 0) / 4)
    # over a set: the summed Jaccards over the summed true objects, as CTC pools its frames;
    # the target itself as prediction merges 1 and 2 (20/32 + 12/32), finds 3 and 4 (1 each)
    n = image_objects(target, pred, 1, ids, IGN)
    total = summarise_objects([n, image_objects(target, target, 1, ids, IGN)])
    assert total["seg"] == pytest.approx((20 / 32 + 12 / 32 + 6 / 9 + 3) / 8)
    # no true object: SEG undefined (null), not 0 or 1
    assert _one(np.zeros_like(target), pred)["seg"] is None
