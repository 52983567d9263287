"""evaluate.objects' Symmetric Best Dice and DiC (evaluate.sbd, CVPPP's leaf scores): hand-computed
cases, empty images, the mean over images, ignored pixels, 3-D and a slow reference."""

from __future__ import annotations

import numpy as np
import pytest

from tests.objects_reference import crowded_scene, sbd_reference, two_touching
from unet.evaluate.objects import (
    OBJECT_COLUMNS,
    image_objects,
    object_cells,
    scores,
    summarise_objects,
)

IGN = 255


def _sbd(target: np.ndarray, pred: np.ndarray, ids: np.ndarray | None = None) -> tuple:
    s = scores(image_objects(target, pred, 1, ids, IGN))
    return s["sbd"], s["dic"], s["abs_dic"]


_leaves = two_touching  # leaves 1 and 2, predicted as one blob


def test_a_merge_by_hand():
    # Dice(leaf 1, blob) 2*20/(20+32) = 40/52, Dice(leaf 2, blob) 2*12/(12+32) = 24/44.
    # BD(true, pred) = (40/52 + 24/44) / 2 = 0.6573; BD(pred, true) = the blob's best, 40/52 =
    # 0.7692; SBD the smaller, 0.6573 (the larger would hide the merge); DiC 1 - 2 = -1
    target, pred, ids = _leaves()
    sbd, dic, abs_dic = _sbd(target, pred, ids)
    assert sbd == pytest.approx((40 / 52 + 24 / 44) / 2)
    assert (dic, abs_dic) == (-1, 1)
    exact = pred.copy()
    exact[:, 6] = 0  # a 1-px gap column: leaf 1 predicted as 4x5, leaf 2 as 4x2 (8 of 12 px)
    # Dice 1 and 2*8/(12+8) = 0.8: BD(true, pred) = BD(pred, true) = 0.9
    assert _sbd(target, exact, ids) == (pytest.approx(0.9), 0, 0)


def test_a_split_lowers_bd_of_the_prediction():
    # one 4x9 leaf (36 px) predicted as two 4x4 halves: BD(true, pred) = 2*16/52 = 0.615, and
    # BD(pred, true) the same for each half (16 px, 2*16/(16+36)): SBD 0.615, DiC +1
    target = np.zeros((6, 11), np.uint8)
    target[1:5, 1:10] = 1
    pred = target.copy()
    pred[:, 5] = 0
    assert _sbd(target, pred) == (pytest.approx(32 / 52), 1, 1)
    extra = target.copy()
    extra[0, 0] = 1  # touches the leaf's corner diagonally: one blob of 37 px, no extra object
    assert _sbd(target, extra)[1] == 0


def test_an_extra_object_lowers_bd_of_the_prediction_only():
    # a 3x3 leaf predicted exactly and a false 2x2 object elsewhere: BD(true, pred) 1,
    # BD(pred, true) (1 + 0) / 2: SBD 0.5 (min), where max would read 1
    target = np.zeros((8, 8), np.uint8)
    target[1:4, 1:4] = 1
    pred = target.copy()
    pred[6:8, 6:8] = 1
    assert _sbd(target, pred) == (0.5, 1, 1)


def test_empty_images():
    # no true and no predicted object: SBD null (0/0, as F1), DiC 0; one side empty: SBD 0
    none = np.zeros((6, 6), np.uint8)
    some = none.copy()
    some[1:3, 1:3] = 1
    assert _sbd(none, none) == (None, 0, 0)
    assert _sbd(none, some) == (0.0, 1, 1) and _sbd(some, none) == (0.0, -1, 1)
    total = summarise_objects([image_objects(none, none, 1, None, IGN)])
    assert (total["sbd"], total["dic"], total["abs_dic"]) == (None, None, None)


def test_a_set_averages_over_images():
    # the merge (SBD 0.6573, DiC -1), one exact 3x3 leaf (SBD 1, DiC 0) and an empty image (not
    # counted): SBD (0.6573 + 1) / 2 = 0.8287, as CVPPP averages images; best Dice pooled over
    # the set would read min((40/52 + 24/44 + 1) / 3, (40/52 + 1) / 2) = 0.7716
    target, pred, ids = _leaves()
    one = np.zeros((5, 5), np.uint8)
    one[1:4, 1:4] = 1
    per_image = [image_objects(target, pred, 1, ids, IGN), image_objects(one, one, 1, None, IGN),
                 image_objects(np.zeros_like(one), np.zeros_like(one), 1, None, IGN)]
    total = summarise_objects(per_image)
    assert total["sbd"] == pytest.approx(((40 / 52 + 24 / 44) / 2 + 1) / 2)
    assert (total["dic"], total["abs_dic"], total["images"]) == (-0.5, 0.5, 2)
    three = pred.copy()
    three[:, [3, 6]] = 0  # three blobs over two leaves: DiC +1; with the merge's -1: mean 0
    both = summarise_objects([per_image[0], image_objects(target, three, 1, ids, IGN)])
    assert (both["dic"], both["abs_dic"]) == (0.0, 1.0)
    # counts written before SBD (no best-Dice sums): null SBD, not a wrong 0; DiC from counts
    old = [{k: v for k, v in n.items() if not k.startswith("bd_")} for n in per_image]
    assert summarise_objects(old)["sbd"] is None and summarise_objects(old)["dic"] == -0.5


def test_ignored_pixels_are_left_out():
    # a 3x3 leaf predicted with 3 more px over an ignored band beside it: SBD 1, not 18/21
    target = np.zeros((6, 6), np.uint8)
    target[1:4, 1:4], target[1:4, 4] = 1, IGN
    pred = np.zeros_like(target)
    pred[1:4, 1:5] = 1
    assert _sbd(target, pred) == (1.0, 0, 0)


def test_objects_in_3d():
    # one object over 3 slices of 2x2, predicted on 2 of them: Dice 2*8/(12+8) = 0.8, DiC 0
    target = np.zeros((4, 4, 4), np.uint8)
    target[0:3, 1:3, 1:3] = 1
    pred = target.copy()
    pred[2] = 0
    assert _sbd(target, pred) == (pytest.approx(0.8), 0, 0)


@pytest.mark.parametrize("seed", range(10))
def test_matches_the_slow_reference_on_random_labels(seed):
    # crowded random leaves (rectangles over each other) and a prediction of shifted, grown
    # and shrunk ones cut by random lines: merges and splits both ways, ignored specks
    target, pred, ids = crowded_scene(seed, 25, 9, 5, IGN)
    # drawn ids (exact_ids): each id one object whatever its parts, as the reference's
    got = scores(image_objects(target, pred, 1, ids, IGN, exact_ids=True))
    want = sbd_reference(np.where(target == 1, ids, 0), pred, target != IGN)
    assert (got["sbd"], got["dic"]) == (pytest.approx(want["sbd"]), want["dic"])
    assert 0 < got["sbd"] < 1


def test_per_image_cells_hold_sbd_and_dic():
    target, pred, ids = _leaves()
    result = {"objects": {"raw": {"1": image_objects(target, pred, 1, ids, IGN)}}}
    cells = dict(zip(OBJECT_COLUMNS, object_cells(result, "raw", 1), strict=True))
    assert float(cells["objects_sbd"]) == pytest.approx((40 / 52 + 24 / 44) / 2)
    assert (cells["objects_dic"], cells["objects_abs_dic"]) == ("-1", "1")


def test_sbd_reaches_summary_tables_log_and_captions(tmp_path, caplog):
    """evaluate_masks to experiments.tsv: class 1's two nuclei predicted as one blob score SBD
    below 1 and DiC -1, class 2 exact SBD 1 and DiC 0; the summary, per_image.csv, metrics.tsv,
    experiments.tsv (the classes' mean), the log and the captions all carry them."""
    import csv
    import json
    import logging

    from tests.test_objects_experiments import _evaluate, _rendered
    from unet.report.compare import compare_experiments
    from unet.report.plot import metrics_table

    with caplog.at_level(logging.INFO):
        path = _evaluate(tmp_path, "on", True)
    summary = json.loads(path.read_text())
    one, two = (summary["methods"]["raw"]["objects"][c] for c in ("1", "2"))
    assert 0 < one["sbd"] < 1 and (one["dic"], one["abs_dic"]) == (-1.0, 1.0)
    assert (two["sbd"], two["dic"]) == (1.0, 0.0)
    assert "Symmetric Best Dice" in summary["objects_rule"]
    assert f"SBD {one['sbd']:.4f}, DiC -1.0000, |DiC| 1.0000" in caplog.text
    image = [r for r in csv.DictReader((tmp_path / "on" / "per_image.csv").open())
             if r["objects_sbd"]]
    assert [r["objects_dic"] for r in image] == ["-1", "0"]
    metrics_table(summary, tmp_path / "m.tsv")
    rows = list(csv.DictReader((tmp_path / "m.tsv").open(), delimiter="\t"))
    assert float(next(r for r in rows if r["class"] == "1")["objects_abs_dic"]) == 1.0
    old = json.loads(path.read_text())
    for c in old["methods"]["raw"]["objects"].values():
        del c["sbd"], c["dic"], c["abs_dic"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    compare_experiments({"on": path, "old": tmp_path / "old.json"}, tmp_path / "e.tsv")
    exp = {r["experiment"]: r for r in csv.DictReader((tmp_path / "e.tsv").open(),
                                                      delimiter="\t")}
    assert float(exp["on"]["objects_sbd"]) == pytest.approx((one["sbd"] + 1) / 2, abs=1e-4)
    assert float(exp["on"]["objects_dic"]) == -0.5 and exp["old"]["objects_sbd"] == ""
    compare_experiments({"old": tmp_path / "old.json"}, tmp_path / "o.tsv")
    assert "sbd" not in (tmp_path / "o.tsv").read_text()
    for name in ("table.rst", "experiments.rst"):
        assert "objects_sbd" in _rendered(name, {"evaluate": {"objects": True}})
        assert "sbd" not in _rendered(name, {"evaluate": {"objects": False}})
