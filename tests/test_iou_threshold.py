"""evaluate.iou_threshold: ISIC 2018's thresholded Jaccard (an image's IoU under it counts 0)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet.common.fileio import read_json, write_json
from unet.evaluate.evaluate import evaluate_masks

H, W = 20, 20


def _square(side: int) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    m[:side, :side] = 255
    return m


def _evaluate(tmp_path, preds: dict[str, np.ndarray], truth: np.ndarray | None = None,
              **kw) -> dict:
    """`truth` (0/255; a 10x10 square unless given) the ground truth of every image, `preds`
    the raw masks by id (also test_relaxed's)."""
    truth = _square(10) if truth is None else truth
    for name in ("gt", "raw"):
        (tmp_path / name).mkdir()
    for i, pred in preds.items():
        Image.fromarray(truth).save(tmp_path / "gt" / f"{i}.png")
        Image.fromarray(pred).save(tmp_path / "raw" / f"{i}.png")
    write_json(tmp_path / "manifest.json", {"pairs": [
        {"id": i, "image": "", "mask": str(tmp_path / "gt" / f"{i}.png")} for i in preds]})
    write_json(tmp_path / "meta.json", {"class_values": [0, 255],
                                        "splits": {"test": {"ids": list(preds)}}})
    return evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json",
                          {"raw": tmp_path / "raw"}, tmp_path / "rows.csv", tmp_path / "s.json",
                          **kw)


def test_images_under_the_threshold_count_zero(tmp_path):
    # IoU 1.0, 81/100 = 0.81 (kept) and 64/100 = 0.64 (under ISIC's 0.65: counts 0)
    preds = {"a": _square(10), "b": _square(9), "c": _square(8)}
    summary = _evaluate(tmp_path, preds, iou_threshold=0.65)
    got = summary["iou_threshold"]
    assert got["threshold"] == 0.65 and "0" in got["rule"]
    assert got["methods"]["raw"]["mean"] == pytest.approx((1.0 + 0.81 + 0) / 3)
    assert got["methods"]["raw"]["images_below"] == 1
    assert read_json(tmp_path / "s.json")["iou_threshold"] == got  # written too


def test_an_iou_equal_to_the_threshold_is_kept(tmp_path):
    summary = _evaluate(tmp_path, {"a": _square(9)}, iou_threshold=0.81)
    assert summary["iou_threshold"]["methods"]["raw"]["mean"] == pytest.approx(0.81)


def test_unset_adds_nothing(tmp_path):
    assert "iou_threshold" not in _evaluate(tmp_path, {"a": _square(9)})


def test_experiments_tsv_shows_it_where_set_and_is_unchanged_where_not(tmp_path):
    # summary.json held the thresholded IoU, experiments.tsv (where runs are compared) did not
    from unet.report.compare import HEADER, compare_experiments

    preds = {"a": _square(10), "b": _square(9), "c": _square(8)}
    for name, kw in (("isic", {"iou_threshold": 0.65}), ("plain", {})):
        (tmp_path / name).mkdir()
        _evaluate(tmp_path / name, preds, **kw)
    runs = {n: tmp_path / n / "s.json" for n in ("isic", "plain")}
    compare_experiments(runs, tmp_path / "both.tsv")
    rows = [r.split("\t") for r in (tmp_path / "both.tsv").read_text().splitlines()]
    got = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert got["isic"]["iou_threshold"] == "0.65", rows
    assert got["isic"]["thresholded_iou"] == f"{(1.0 + 0.81 + 0) / 3:.4f}", rows
    assert got["plain"]["thresholded_iou"] == got["plain"]["iou_threshold"] == "", rows
    compare_experiments({"plain": runs["plain"]}, tmp_path / "plain.tsv")  # off: as before
    assert (tmp_path / "plain.tsv").read_text().splitlines()[0].split("\t") == list(HEADER)


def test_the_experiments_caption_names_the_column_where_it_is_set():
    from tests.test_objects_experiments import _rendered

    assert "thresholded_iou" in _rendered("experiments.rst", {"evaluate": {"iou_threshold": 0.65}})
    assert "thresholded_iou" not in _rendered("experiments.rst", {"evaluate": {}})
    assert "thresholded_iou" not in _rendered("experiments.rst", {})
