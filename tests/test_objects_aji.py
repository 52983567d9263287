"""evaluate.objects' AJI and AJI+ (evaluate.aji): hand-computed cases, empty ones, pooling,
ignored pixels, 3-D, and a slow reference (tests/objects_reference.py) on random labels."""

from __future__ import annotations

import numpy as np
import pytest

from tests.objects_reference import crowded_scene, reference, two_touching
from unet.evaluate.objects import (
    OBJECT_COLUMNS,
    image_objects,
    object_cells,
    scores,
    summarise_objects,
)

IGN = 255


def _aji(target: np.ndarray, pred: np.ndarray, ids: np.ndarray | None = None) -> tuple:
    s = scores(image_objects(target, pred, 1, ids, IGN))
    return s["aji"], s["aji_plus"]


_merged = two_touching  # nuclei 1 and 2, predicted as one blob


def test_a_merge_is_penalised():
    # AJI: each nucleus pairs with the blob (IoU 20/32, 12/32): C 20 + 12, U 32 + 32 (the blob
    # counted in both unions). AJI+: the blob pairs once, with nucleus 1: C 20, U 32 + nucleus
    # 2's 12 px. A perfect prediction scores 1 on both.
    target, pred, ids = _merged()
    assert _aji(target, pred, ids) == (pytest.approx(32 / 64), pytest.approx(20 / 44))
    assert _aji(target, ids.astype(np.uint8), ids) != (1.0, 1.0)  # ids touch: one blob still
    apart = pred.copy()
    apart[:, 6] = 0  # a 1-px gap: two predicted objects, 4x5 and 4x2
    # nucleus 1 exact (20/20); nucleus 2 with the 4x2 (8/12): C 28, U 20 + 12
    assert _aji(target, apart, ids) == (pytest.approx(28 / 32), pytest.approx(28 / 32))


def test_a_split_counts_the_unpaired_part_in_the_union():
    # one 4x9 nucleus (36 px) predicted as two 4x4 halves with a gap column: each IoU 16/36,
    # the first in raster order pairs; the other half's 16 px join U: 16 / (36 + 16)
    target = np.zeros((6, 11), np.uint8)
    target[1:5, 1:10] = 1
    pred = target.copy()
    pred[:, 5] = 0
    assert _aji(target, pred) == (pytest.approx(16 / 52), pytest.approx(16 / 52))


def test_an_extra_predicted_object_joins_the_union():
    # a 3x3 nucleus predicted exactly, and a false 2x2 object elsewhere: 9 / (9 + 4)
    target = np.zeros((8, 8), np.uint8)
    target[1:4, 1:4] = 1
    pred = target.copy()
    pred[6:8, 6:8] = 1
    assert _aji(target, pred) == (pytest.approx(9 / 13), pytest.approx(9 / 13))
    missed = target.copy()
    missed[6:8, 0:2] = 1  # a true 2x2 object nothing predicted on: its 4 px join U
    assert _aji(missed, target) == (pytest.approx(9 / 13), pytest.approx(9 / 13))


def test_empty_images():
    # as F1 and PQ: no true and no predicted object is 0/0, null (and not counted in a set);
    # predicted objects only, or true ones only, score 0
    none = np.zeros((6, 6), np.uint8)
    some = none.copy()
    some[1:3, 1:3] = 1
    assert _aji(none, none) == (None, None)
    assert _aji(none, some) == (0.0, 0.0) and _aji(some, none) == (0.0, 0.0)
    total = summarise_objects([image_objects(none, none, 1, None, IGN)])
    assert (total["aji"], total["aji_plus"], total["images_empty"]) == (None, None, 1)


def test_a_set_pools_intersections_and_unions():
    # the merged pair (AJI 32/64) and the same image predicted exactly (32/32): (32 + 32) /
    # (64 + 32) = 2/3, not the mean of the images' AJIs (0.75); an empty image adds nothing
    target, pred, ids = _merged()
    per_image = [image_objects(target, pred, 1, ids, IGN),
                 image_objects(target, np.where(ids == 2, 0, target), 1, ids, IGN),
                 image_objects(np.zeros_like(target), np.zeros_like(target), 1, None, IGN)]
    # second image: nucleus 1 exact, nucleus 2 missed: C 20, U 20 + 12
    total = summarise_objects(per_image)
    assert total["aji"] == pytest.approx((32 + 20) / (64 + 32))
    assert total["aji_plus"] == pytest.approx((20 + 20) / (44 + 32))
    # counts written without AJI (by hand, or summaries before it): null, not a wrong 0
    old = [{k: v for k, v in n.items() if not k.startswith("aji")} for n in per_image]
    assert summarise_objects(old)["aji"] is None


def test_ignored_pixels_are_left_out():
    # a 3x3 nucleus predicted with 3 more px over an ignored band beside it: AJI 1, not 9/12
    target = np.zeros((6, 6), np.uint8)
    target[1:4, 1:4], target[1:4, 4] = 1, IGN
    pred = np.zeros_like(target)
    pred[1:4, 1:5] = 1
    assert _aji(target, pred) == (1.0, 1.0)


def test_objects_in_3d():
    # one object over 3 slices of 2x2, predicted on 2 of them: AJI 8/12, one object not three
    target = np.zeros((4, 4, 4), np.uint8)
    target[0:3, 1:3, 1:3] = 1
    pred = target.copy()
    pred[2] = 0
    assert _aji(target, pred) == (pytest.approx(8 / 12), pytest.approx(8 / 12))


def test_aji_plus_takes_the_pairing_of_largest_summed_iou():
    # in 3 rows (x3 px): nucleus A 20 columns and B 6 beside it; prediction Y A's first 5, X
    # 20 from A's 7th on, over B. IoU A-Y 5/20, A-X 14/26, B-X 6/20. AJI pairs A and B with X:
    # C 14 + 6, U 26 + 20 + Y's 5. AJI+ pairs by the largest sum, A-Y + B-X (0.55 > A-X's
    # 0.54, which taking the best IoU first would keep): C 5 + 6, U 20 + 20
    ids = np.zeros((5, 28), np.uint16)
    ids[1:4, 0:20], ids[1:4, 20:26] = 1, 2
    target = (ids > 0).astype(np.uint8)
    pred = np.zeros_like(target)
    pred[1:4, 0:5], pred[1:4, 6:26] = 1, 1
    assert _aji(target, pred, ids) == (pytest.approx(20 / 51), pytest.approx(11 / 40))


@pytest.mark.parametrize("seed", range(12))
def test_matches_the_slow_reference_on_random_labels(seed):
    # crowded random rectangles and a prediction of shifted, grown and shrunk ones: predicted
    # objects over several true ones and the reverse, AJI+'s pairings solved in components of
    # several objects (20-45 pairs an image), not pair by pair
    target, pred, ids = crowded_scene(seed, 30, 8, 6, IGN)
    got = image_objects(target, pred, 1, ids, IGN, exact_ids=True)  # no smear: as drawn
    want = reference(np.where(target == 1, ids, 0), pred, target != IGN)
    assert {k: got[k] for k in want} == {**want, "iou_sum": pytest.approx(got["iou_sum"]),
                                         "seg_sum": pytest.approx(got["seg_sum"])}
    s = scores(got)
    assert 0 <= s["aji_plus"] <= 1 and 0 <= s["aji"] <= 1


def test_per_image_cells_hold_aji():
    target, pred, ids = _merged()
    result = {"objects": {"raw": {"1": image_objects(target, pred, 1, ids, IGN)}}}
    cells = dict(zip(OBJECT_COLUMNS, object_cells(result, "raw", 1), strict=True))
    assert float(cells["objects_aji"]) == pytest.approx(0.5)
    assert float(cells["objects_aji_plus"]) == pytest.approx(20 / 44)


def test_aji_reaches_summary_tables_log_and_captions(tmp_path, caplog):
    """evaluate_masks to experiments.tsv: class 1's two nuclei (9 and 3 px) predicted as one
    15-px blob: AJI (9 + 3) / (15 + 15), AJI+ 9 / (15 + 3); class 2 exact: 1 and 1."""
    import csv
    import json
    import logging

    from tests.test_objects_experiments import _evaluate, _rendered
    from unet.report.compare import compare_experiments
    from unet.report.plot import metrics_table

    with caplog.at_level(logging.INFO):
        path = _evaluate(tmp_path, "on", True)
    summary = json.loads(path.read_text())
    one = summary["methods"]["raw"]["objects"]["1"]
    assert (one["aji"], one["aji_plus"]) == (pytest.approx(0.4), pytest.approx(0.5))
    assert "Aggregated Jaccard" in summary["objects_rule"]
    assert "AJI 0.4000, AJI+ 0.5000" in caplog.text
    image = [r for r in csv.DictReader((tmp_path / "on" / "per_image.csv").open())
             if r["objects_aji"]]  # classes 1 and 2 (the background's cells blank)
    assert [float(r["objects_aji"]) for r in image] == [pytest.approx(0.4), 1.0]
    metrics_table(summary, tmp_path / "m.tsv")
    rows = list(csv.DictReader((tmp_path / "m.tsv").open(), delimiter="\t"))
    assert float(next(r for r in rows if r["class"] == "1")["objects_aji_plus"]) == 0.5
    # experiments.tsv: the classes' mean; a summary written before AJI: blank, and alone none
    old = json.loads(path.read_text())
    for c in old["methods"]["raw"]["objects"].values():
        del c["aji"], c["aji_plus"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    compare_experiments({"on": path, "old": tmp_path / "old.json"}, tmp_path / "e.tsv")
    exp = {r["experiment"]: r for r in csv.DictReader((tmp_path / "e.tsv").open(),
                                                      delimiter="\t")}
    assert float(exp["on"]["objects_aji"]) == pytest.approx(0.7, abs=1e-4)
    assert float(exp["on"]["objects_aji_plus"]) == pytest.approx(0.75, abs=1e-4)
    assert exp["old"]["objects_aji"] == "" and exp["old"]["objects_seg"] != ""
    compare_experiments({"old": tmp_path / "old.json"}, tmp_path / "o.tsv")
    assert "aji" not in (tmp_path / "o.tsv").read_text()
    for name in ("table.rst", "experiments.rst"):
        on = _rendered(name, {"evaluate": {"objects": True}})
        assert "objects_aji" in on and "objects_aji_plus" in on
        assert "aji" not in _rendered(name, {"evaluate": {"objects": False}})
