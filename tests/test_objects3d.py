"""Objects per case in 3-D (evaluate.objects with evaluate.voxel_spacing): a case's slices
stacked as for its HD95, an object spanning slices counted once, into per_case.csv and
summary.json's per_case."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.objects_reference import reference
from unet.evaluate.objects import image_objects

D, H, W = 12, 8, 8
IGN = 255
GROUPS = r"^([a-z])_\d+$"


def _cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(target, prediction) volumes of three cases."""
    a_t, a_p = np.zeros((D, H, W), np.uint8), np.zeros((D, H, W), np.uint8)
    a_t[1:4, 1:3, 1:3] = a_p[1:4, 1:3, 1:3] = 1  # spans 3 slices, found: one TP, not three
    a_t[5:10, 1:3, 5:7] = 1  # spans slices 5-9, predicted split in z at slice 8:
    a_p[5:8, 1:3, 5:7] = a_p[9, 1:3, 5:7] = 1  # 5-7 (IoU 3/5, TP) and 9 (FP)
    a_p[10:12, 5:7, 1:3] = 1  # a false blob over 2 slices: one FP
    b_t = np.zeros((D, H, W), np.uint8)
    b_t[2:5, 3:5, 3:5] = 1  # missed: one FN
    empty = np.zeros((D, H, W), np.uint8)
    return {"a": (a_t, a_p), "b": (b_t, empty.copy()), "c": (empty, empty.copy())}


def _evaluate(tmp_path: Path, cases: dict, objects: bool = True,
              spacing: list[float] | None = (1, 1, 1), meta_extra: dict | None = None,
              pair_extra=None) -> dict:
    """evaluate_masks on the cases' slices (ids `<case>_<z>`), grouped by case."""
    from unet.evaluate.evaluate import evaluate_masks

    (tmp_path / "pred").mkdir(exist_ok=True)
    pairs = []
    for case, (target, pred) in cases.items():
        for z in range(len(target)):
            i = f"{case}_{z}"
            Image.fromarray(target[z]).save(tmp_path / f"{i}_gt.png")
            Image.fromarray(pred[z]).save(tmp_path / "pred" / f"{i}.png")
            pairs.append({"id": i, "mask": str(tmp_path / f"{i}_gt.png"),
                          **(pair_extra(i) if pair_extra else {})})
    (tmp_path / "manifest.json").write_text(json.dumps({"pairs": pairs}))
    meta = {"class_values": [0, 1], "splits": {"test": {"ids": sorted(p["id"] for p in pairs)}},
            **(meta_extra or {})}
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    return evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json",
                          {"raw": tmp_path / "pred"}, tmp_path / "per_image.csv",
                          tmp_path / "summary.json", group_by=GROUPS,
                          cases_csv=tmp_path / "per_case.csv", voxel_spacing=spacing,
                          objects=objects)


def _rows(tmp_path: Path) -> dict:
    rows = csv.DictReader((tmp_path / "per_case.csv").read_text().splitlines())
    return {(r["case"], r["class"]): r for r in rows}


def test_an_object_across_slices_counts_once_per_case(tmp_path):
    summary = _evaluate(tmp_path, _cases())
    # per image, A was 3 true objects, B 5 (4 TP, 1 FN) and b's 3: the volumes count each once
    s2d = summary["methods"]["raw"]["objects"]["1"]
    assert (s2d["true"], s2d["tp"]) == (11, 7)
    s = summary["per_case"]["methods"]["raw"]["objects"]["1"]
    assert (s["true"], s["predicted"], s["tp"], s["fp"], s["fn"]) == (3, 4, 2, 2, 1)
    assert (s["cases"], s["cases_empty"]) == (2, 1)
    assert s["f1"] == pytest.approx(4 / 7)
    assert s["panoptic_quality"] == pytest.approx(1.6 / 3.5)
    assert s["mean_matched_iou"] == pytest.approx(0.8)
    assert "26-connected" in summary["per_case"]["objects_rule"]
    rows = _rows(tmp_path)
    a, b, c = rows["a", "1"], rows["b", "1"], rows["c", "1"]
    assert [a[k] for k in ("objects_true", "objects_predicted", "objects_tp", "objects_fp",
                           "objects_fn")] == ["2", "4", "2", "2", "0"]
    assert float(a["objects_f1"]) == pytest.approx(4 / 6) and a["hd95"] != ""
    assert (b["objects_true"], b["objects_fn"], b["objects_f1"]) == ("1", "1", "0")
    assert (c["objects_true"], c["objects_f1"]) == ("0", "")  # 0/0: blank
    assert rows["a", "0"]["objects_true"] == ""  # background: no objects
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["per_case"]["methods"]["raw"]["objects"] == json.loads(json.dumps(
        summary["per_case"]["methods"]["raw"]["objects"]))


@pytest.mark.parametrize(("objects", "spacing"), [(True, None), (False, [1, 1, 1])])
def test_off_unless_both_keys_are_set(tmp_path, objects, spacing):
    summary = _evaluate(tmp_path, _cases(), objects=objects, spacing=spacing)
    assert "objects" not in summary["per_case"]["methods"]["raw"]
    assert "objects_rule" not in summary["per_case"]
    header = (tmp_path / "per_case.csv").read_text().splitlines()[0].split(",")
    assert "objects_true" not in header


def test_slices_of_several_sizes_leave_the_case_blank(tmp_path):
    cases = _cases()
    # case b as a list of slices, one of another size: no volume, so no 3-D objects
    b_t, b_p = list(cases["b"][0]), list(cases["b"][1])
    b_t[0], b_p[0] = np.zeros((H, W + 1), np.uint8), np.zeros((H, W + 1), np.uint8)
    cases["b"] = (b_t, b_p)
    summary = _evaluate(tmp_path, cases)
    s = summary["per_case"]["methods"]["raw"]["objects"]["1"]
    assert (s["true"], s["fn"], s["cases"], s["cases_empty"]) == (2, 0, 1, 1)
    assert _rows(tmp_path)["b", "1"]["objects_true"] == ""


def _ids_cases() -> dict:
    """One case of two touching objects (16-bit ids 300 and 7) over slices 1-3, predicted as one
    blob: pixels perfect, objects one of two."""
    ids = np.zeros((4, 6, 10), np.uint16)
    ids[1:4, 1:5, 1:6], ids[1:4, 1:5, 6:9] = 300, 7
    return {"a": (ids, np.where(ids > 0, 65535, 0).astype(np.uint16))}


def test_source_ids_keep_touching_objects_apart_across_slices(tmp_path):
    meta = {"class_values": [0, 65535], "mask_threshold": 0, "mask_bits": 16}
    summary = _evaluate(tmp_path, _ids_cases(), meta_extra=meta)
    s = summary["per_case"]["methods"]["raw"]["objects"]["1"]
    assert (s["true"], s["predicted"], s["tp"], s["fn"]) == (2, 1, 1, 1)


def test_ids_drawn_per_image_are_not_joined_across_slices(tmp_path):
    # ids drawn per image (masks.separate) are numbered afresh in each slice: the same
    # object's 1 and 2 in two slices would count as two, so the blobs are taken instead
    ids = np.zeros((2, 6, 6), np.uint8)
    ids[0, 1:5, 1:5], ids[1, 1:5, 1:5] = 1, 2
    for z in range(2):
        Image.fromarray(ids[z]).save(tmp_path / f"a_{z}.objects.png")
    mask = (ids > 0).astype(np.uint8)
    summary = _evaluate(tmp_path, {"a": (mask, mask)},
                        pair_extra=lambda i: {"mask_objects": str(tmp_path /
                                                                  f"{i}.objects.png")})
    s = summary["per_case"]["methods"]["raw"]["objects"]["1"]
    assert (s["true"], s["tp"], s["fn"]) == (1, 1, 0)


@pytest.mark.parametrize("seed", range(8))
def test_matches_brute_force_on_random_3d_labels(seed):
    rng = np.random.default_rng(seed)
    # blocky 3-D ids (a few voxels to many), a prediction of them shifted in z and y, specked
    ids = np.kron(rng.integers(0, 6, (4, 5, 5)), np.ones((3, 4, 4), np.int64)).astype(np.uint16)
    ids = np.where(rng.random(ids.shape) < 0.05, 0, ids).astype(np.uint16)
    target = (ids > 0).astype(np.uint8)
    target[rng.random(ids.shape) < 0.03] = IGN
    pred = np.roll(ids > 0, (rng.integers(-1, 2), rng.integers(-2, 3)), axis=(0, 1))
    pred = pred ^ (rng.random(ids.shape) < 0.04)
    for true_ids in (ids, None):
        got = image_objects(target, pred.astype(np.uint8), 1, true_ids, IGN)
        want = reference(np.where(target == 1, ids if true_ids is not None else 1, 0), pred,
                          target != IGN, true_ids)
        assert got["iou_sum"] == pytest.approx(want.pop("iou_sum"))
        assert got["seg_sum"] == pytest.approx(want.pop("seg_sum"))
        assert {k: got[k] for k in want} == want
