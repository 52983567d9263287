"""evaluate.objects' split and merge counts: a true object split when two or more predicted
objects each lie more than half inside it, a predicted object a merge when it covers more than
half of each of two or more true objects (the Cell Tracking Challenge's DET matching rule)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.objects_reference import reference
from unet.evaluate.objects import image_objects, object_cells, summarise_objects
from unet.report.objects import object_cells as table_cells
from unet.report.objects import object_columns

IGN = 255


def _scene() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids of a split object (1), a merged pair (2, 3), a found object (4) and a false speck."""
    ids = np.zeros((12, 20), np.uint16)
    ids[0:4, 0:10] = 1  # predicted as 4x4 and 4x5 with a gap column: split
    ids[6:10, 0:4], ids[6:10, 5:9] = 2, 3  # predicted as one 4x9 blob over both: merged
    ids[6:10, 12:18] = 4  # found
    pred = np.zeros(ids.shape, np.uint8)
    pred[0:4, 0:4], pred[0:4, 5:10] = 1, 1
    pred[6:10, 0:9] = 1
    pred[6:10, 12:18] = 1
    pred[11, 17:19] = 1  # a false speck below object 4: inside no true object
    return ids, (ids > 0).astype(np.uint8), pred


def test_split_and_merged_objects_are_counted():
    ids, target, pred = _scene()
    n = image_objects(target, pred, 1, ids, IGN)
    # 4 true, 5 predicted; object 1's 4x5 part IoU 20/40 = 0.5: no match; 4x4 neither; the
    # blob over 2 and 3 IoU 16/36 and 16/36: neither; object 4 found
    assert (n["true"], n["predicted"], n["tp"], n["fp"], n["fn"]) == (4, 5, 1, 4, 3)
    assert (n["split"], n["merged"]) == (1, 1)
    want = reference(np.where(target == 1, ids, 0), pred, target != IGN, ids)
    assert want == {**n, "iou_sum": pytest.approx(n["iou_sum"]),
                    "seg_sum": pytest.approx(n["seg_sum"])}


def test_a_speck_half_inside_splits_nothing_and_a_majority_does():
    target = np.zeros((4, 8), np.uint8)
    target[0:4, 0:4] = 1
    pred = np.zeros_like(target)
    pred[0:4, 0:3] = 1  # the object's left 12 px
    pred[0, 3:5] = 1  # a second blob? no: touches the first, one blob of 14 px
    pred[3, 4:6] = 1  # 8-connected to it too
    assert image_objects(target, pred, 1, None, IGN)["split"] == 0
    pred = np.zeros_like(target)
    pred[0:4, 0:2] = 1
    pred[1, 3:6] = 1  # 1 px inside of 3: not more than half
    assert image_objects(target, pred, 1, None, IGN)["split"] == 0
    pred[1, 5] = 0  # 1 px inside of 2: exactly half, not more
    assert image_objects(target, pred, 1, None, IGN)["split"] == 0
    pred[1, 4] = 0  # 1 px, wholly inside: split
    assert image_objects(target, pred, 1, None, IGN)["split"] == 1


def test_counts_sum_over_the_set_and_reach_the_tables():
    ids, target, pred = _scene()
    n = image_objects(target, pred, 1, ids, IGN)
    s = summarise_objects([n, n])
    assert (s["split"], s["merged"]) == (2, 2)
    row = dict(zip(("true", "predicted", "tp", "fp", "fn", "split", "merged"),
                   object_cells({"objects": {"raw": {"1": n}}}, "raw", 1), strict=False))
    assert (row["split"], row["merged"]) == ("1", "1")
    summary = {"objects_rule": "r", "methods": {"raw": {"objects": {"1": s}}}}
    cols = object_columns(summary)
    cells = dict(zip(cols, table_cells(summary, "raw", "1"), strict=True))
    assert (cells["objects_split"], cells["objects_merged"]) == ("2", "2")
    # a summary.json written before the counts: blank cells, not a KeyError
    old = {k: v for k, v in s.items() if k not in ("split", "merged")}
    summary["methods"]["raw"]["objects"]["1"] = old
    cells = dict(zip(cols, table_cells(summary, "raw", "1"), strict=True))
    assert (cells["objects_split"], cells["objects_merged"], cells["objects_tp"]) == ("", "", "2")


@pytest.mark.parametrize("seed", range(10))
def test_split_and_merge_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    # 4x4 blocks of ids, half of them background: touching objects of several ids (merges)
    blocks = rng.integers(1, 30, (8, 8)) * (rng.random((8, 8)) < 0.5)
    ids = np.kron(blocks, np.ones((4, 4), np.int64)).astype(np.uint16)
    target = (ids > 0).astype(np.uint8)
    target[rng.random(ids.shape) < 0.03] = IGN
    # a prediction cut by random rows and columns (splits) and specked (0 to 5 splits, 2 to 6
    # merges a seed here)
    cut = (rng.random((32, 1)) < 0.1) | (rng.random((1, 32)) < 0.1)
    pred = (ids > 0) & ~cut | (rng.random(ids.shape) < 0.03)
    got = image_objects(target, pred.astype(np.uint8), 1, ids, IGN)
    want = reference(np.where(target == 1, ids, 0), pred, target != IGN, ids)
    assert want == {**got, "iou_sum": pytest.approx(got["iou_sum"]),
                    "seg_sum": pytest.approx(got["seg_sum"])}
    assert want["split"] + want["merged"] > 0
