"""evaluate.relaxed_slack: relaxed precision and recall (Mnih & Hinton 2010) on hand-made lines."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from tests.test_iou_threshold import _evaluate  # the same evaluation of PNG masks
from unet.common.fileio import read_json
from unet.evaluate import relaxed
from unet.evaluate.relaxed import relaxed_counts, relaxed_scores

H, W = 20, 20
IGNORE = 255  # the class index of an ignored pixel in these arrays


def _line(col: int, rows: slice = slice(2, 18)) -> np.ndarray:
    """(H, W) class indices: a vertical line of class 1, one px wide, at column `col`."""
    m = np.zeros((H, W), np.uint8)
    m[rows, col] = 1
    return m


def _scores(pred: np.ndarray, target: np.ndarray, slack: float) -> dict[str, float]:
    return relaxed_scores(relaxed_counts(pred, target, range(1, 2), IGNORE, slack)[1])


@pytest.mark.parametrize("slack", [1, 1.5, 3])
def test_a_line_one_px_off_is_right_within_a_slack_of_one_or_more(slack):
    assert _scores(_line(6), _line(5), slack) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}


def test_a_line_one_px_off_is_wrong_without_slack():
    # slack 0: the plain pixel precision and recall, which a 1-px shift scores 0
    assert _scores(_line(6), _line(5), 0) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_distance_is_euclidean_and_the_slack_inclusive():
    target, pred = np.zeros((H, W), np.uint8), np.zeros((H, W), np.uint8)
    target[5, 5], pred[7, 7] = 1, 1  # sqrt(8) = 2.83 px apart
    assert _scores(pred, target, 2)["precision"] == 0.0  # 2.83 > 2 (a square would say 2)
    assert _scores(pred, target, 3)["precision"] == 1.0
    pred[7, 7], pred[5, 8] = 0, 1  # 3 px apart: within a slack of 3, as <= counts
    assert _scores(pred, target, 3)["recall"] == 1.0


def test_a_missed_line_has_recall_zero():
    assert _scores(np.zeros((H, W), np.uint8), _line(5), 3) == {
        "precision": 1.0, "recall": 0.0, "f1": 0.0}  # nothing predicted: none of it is off
    assert _scores(_line(15), _line(5), 3) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_half_a_line_found():
    got = relaxed_counts(_line(5, slice(2, 10)), _line(5), range(1, 2), IGNORE, 1)[1]
    # the 8 predicted px lie on the line; of its 16 px, rows 2..10 lie within 1 px of them
    assert got.tolist() == [8, 8, 16, 9]


def test_ignored_pixels_count_in_neither_mask():
    target = _line(5)
    target[:, 12:] = IGNORE  # e.g. beyond a retina's field of view
    pred = _line(5)
    pred[:, 14] = 1  # predicted in the ignored part only: not a false positive
    assert relaxed_counts(pred, target, range(1, 2), IGNORE, 3)[1].tolist() == [16, 16, 16, 16]
    # a true pixel beside the ignored part is not found by a prediction inside it
    target[2:18, 11] = 1
    pred = np.where(np.arange(W) == 12, 1, 0).astype(np.uint8) * np.ones((H, 1), np.uint8)
    assert relaxed_counts(pred, target, range(1, 2), IGNORE, 3)[1].tolist() == [0, 0, 32, 0]


def test_bands_count_as_the_whole_image(monkeypatch):
    # the transform runs on bands of rows (memory): cut small, the counts are the same
    rng = np.random.default_rng(0)
    pred = (rng.random((60, 50)) < 0.05).astype(np.uint8)
    target = (rng.random((60, 50)) < 0.05).astype(np.uint8)
    whole = relaxed_counts(pred, target, range(1, 2), IGNORE, 2.5)
    monkeypatch.setattr(relaxed, "BAND", 7)
    assert np.array_equal(relaxed_counts(pred, target, range(1, 2), IGNORE, 2.5), whole)
    assert whole[1, 1] < whole[1, 0]  # some predicted pixel lies beyond the slack


def test_the_set_pools_pixels_not_images_ratios(tmp_path):
    # image a: its 16 px 1 px off (right within 1 px); image b: 2 px, 10 px off (both wrong)
    far = np.zeros((H, W), np.uint8)
    far[0, 15] = far[1, 15] = 255
    preds = {"a": _line(6) * 255, "b": far}
    summary = _evaluate(tmp_path, preds, _line(5) * 255, relaxed_slack=1)
    got = summary["relaxed"]["methods"]["raw"]
    assert got["classes"]["1"]["precision"] == pytest.approx(16 / 18)  # not (1 + 0) / 2
    assert got["classes"]["1"]["recall"] == pytest.approx(16 / 32)
    assert got["classes"]["1"]["predicted_px"] == 18 and got["classes"]["1"]["true_px"] == 32
    assert got["foreground"] == {k: got["classes"]["1"][k] for k in ("precision", "recall", "f1")}
    assert summary["relaxed"]["slack_px"] == 1 and "summed" in summary["relaxed"]["rule"]
    assert read_json(tmp_path / "s.json")["relaxed"] == summary["relaxed"]
    with open(tmp_path / "rows.csv") as f:
        rows = {(r["id"], r["class"]): r for r in csv.DictReader(f)}
    assert rows[("a", "1")]["relaxed_precision"] == "1" and rows[("b", "1")]["relaxed_f1"] == "0"
    assert rows[("a", "0")]["relaxed_recall"] == ""  # the background is not scored


def test_unset_adds_nothing(tmp_path):
    summary = _evaluate(tmp_path, {"a": _line(6) * 255}, _line(5) * 255)
    assert "relaxed" not in summary
    assert "relaxed_precision" not in (tmp_path / "rows.csv").read_text()


def test_a_volume_is_refused_not_miscounted():
    # the slack is in-plane: a (D, H, W) stack's counts came out silently wrong (a line 1 px
    # off found nowhere), so volumes are refused; slices are scored one by one
    with pytest.raises(ValueError, match=r"\(H, W\).*per slice"):
        relaxed_counts(np.stack([_line(6)] * 2), np.stack([_line(5)] * 2), range(1, 2), IGNORE, 1)
