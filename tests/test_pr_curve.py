"""evaluate.pr_curve: MaxF (ODS), AP, OIS and the precision-recall curve of the raw
probabilities, from histograms pooled over the test set, against hand counts and an exact
reference (sklearn is not installed in this venv: _exact is its definition, written out)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from unet.common.fileio import read_json, write_json
from unet.common.labels import IGNORE_INDEX
from unet.common.probs import probs_path, write_probs
from unet.evaluate import pr_curve
from unet.evaluate.evaluate import evaluate_masks
from unet.evaluate.pr_curve import (
    BINS,
    NO_PROBS,
    PrPool,
    average_precision,
    best_f1,
    class_scores,
    image_histograms,
)
from unet.report.pr_plot import _label, plot_pr_curve


def _hist(p: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(2, BINS) counts of class 1 for flat probabilities `p` and 0/1 (or ignored) `truth`."""
    probs = np.stack([1 - p, p])[:, None, :].astype(np.float32)  # (2, 1, N)
    return image_histograms(probs, truth[None, :].astype(np.uint8), range(1, 2), IGNORE_INDEX)[0]


def _exact(p: np.ndarray, truth: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """(AP, max F1, precision, recall) as sklearn's average_precision_score and
    precision_recall_curve define them: a threshold at each distinct score (ties together),
    AP = sum over thresholds, high to low, of (recall - previous recall) x precision."""
    order = np.argsort(-p, kind="stable")
    p, truth = p[order], truth[order]
    last = np.r_[np.flatnonzero(np.diff(p)), len(p) - 1]  # each distinct score's last pixel
    tp = np.cumsum(truth)[last].astype(float)
    fp = (last + 1) - tp
    positive = truth.sum()
    precision, recall = tp / (tp + fp), tp / positive
    ap = float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
    return ap, float(np.max(2 * tp / (tp + fp + positive))), precision, recall


def test_separable_probabilities_score_one():
    p = np.array([0.9, 0.8, 0.95, 0.1, 0.2, 0.3])
    got = class_scores(_hist(p, np.array([1, 1, 1, 0, 0, 0])), [1.0])
    assert got["max_f1"] == 1.0 and got["ap"] == 1.0 and got["ois_f1"] == 1.0
    # any threshold in (0.3, 0.8] separates them: the highest, the lowest true score's bin
    assert got["max_f1_threshold"] == 0.8


def test_a_hand_counted_case():
    # high to low: true (0.95), false (0.85), true (0.75), false (0.25). AP = 1/2 x 1 (first
    # true at precision 1) + 1/2 x 2/3 (second at 2 of 3) = 5/6. F1 at each threshold:
    # 2/3 (P 1, R 1/2), 1/2, 4/5 (P 2/3, R 1), 2/3: MaxF 0.8 at the third score
    hist = _hist(np.array([0.95, 0.85, 0.75, 0.25]), np.array([1, 0, 1, 0]))
    assert average_precision(hist) == pytest.approx(5 / 6)
    f1, at = best_f1(hist)
    assert f1 == pytest.approx(0.8)
    assert 0.74 <= at <= 0.75  # the bin edge at or under 0.75 (float32 0.75 * BINS)


def test_ties_within_a_bin_count_as_one_threshold():
    # both scores in one bin: one threshold, precision 1/2 for the one true pixel (not 1)
    hist = _hist(np.array([0.5001, 0.5002]), np.array([1, 0]))
    assert average_precision(hist) == pytest.approx(0.5)


def test_no_true_pixel_gives_null_not_a_score():
    got = class_scores(_hist(np.array([0.9, 0.1]), np.array([0, 0])), [None])
    assert got["max_f1"] is None and got["ap"] is None and got["ois_f1"] is None
    assert got["ois_images"] == 0


def test_ignored_and_nan_pixels_count_in_no_bin():
    p = np.array([0.9, 0.1, 0.99, 0.99, np.nan])
    truth = np.array([1, 0, IGNORE_INDEX, IGNORE_INDEX, 0])  # confident mistakes, ignored
    hist = _hist(p, truth)
    assert hist.sum() == 2 and average_precision(hist) == 1.0


def test_each_class_is_one_against_the_rest():
    # 3 classes: class 2's pixels are negatives of class 1 and the other way round
    target = np.array([[1, 2, 0, 2]], np.uint8)
    probs = np.array([[[0.1, 0.1, 0.8, 0.1]], [[0.8, 0.6, 0.1, 0.2]], [[0.1, 0.3, 0.1, 0.7]]],
                     np.float32)
    hist = image_histograms(probs, target, range(1, 3), IGNORE_INDEX)  # (2, 2, BINS)
    assert hist[:, 0].sum(axis=1).tolist() == [1, 2] and hist[:, 1].sum(axis=1).tolist() == [3, 2]
    assert average_precision(hist[0]) == 1.0
    # class 2: 0.7 and 0.3 true over 0.1 and 0.1 (a class-1 and a background pixel): AP 1
    assert average_precision(hist[1]) == 1.0 and hist[1, 1, 100] == 2


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping classes, probabilities as a network gives them (many near 0 and 1)."""
    rng = np.random.default_rng(seed)
    truth = (rng.random(n) < 0.3).astype(np.uint8)
    p = np.where(truth == 1, rng.beta(5, 2, n), rng.beta(2, 5, n))
    return p, truth


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_the_exact_definition_on_scores_at_bin_resolution(seed):
    p, truth = _data(20000, seed)
    p = (np.floor(p * BINS) + 0.5) / BINS  # one score per bin: the histogram loses nothing
    ap, max_f1, precision, recall = _exact(p, truth)
    got = class_scores(_hist(p, truth), [])
    assert got["ap"] == pytest.approx(ap, abs=1e-12)
    assert got["max_f1"] == pytest.approx(max_f1, abs=1e-12)
    # the curve: the exact one's points, at the bins holding pixels (high recall first)
    held = np.unique(np.floor(p * BINS).astype(int))
    assert np.allclose(np.array(got["precision"])[held], precision[::-1], atol=1e-6)
    assert np.allclose(np.array(got["recall"])[held], recall[::-1], atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_bins_error_against_exact_scores_is_small(seed):
    # raw float64 scores: only the order within a bin is lost (measured: AP 2.5e-4 low, MaxF
    # under 1e-4; storing the probabilities as float16 moves the exact AP 1.1e-4 itself)
    p, truth = _data(200000, seed)
    ap, max_f1, _, _ = _exact(p, truth)
    got = class_scores(_hist(p, truth), [])
    assert abs(got["ap"] - ap) < 1e-3
    assert 0 <= max_f1 - got["max_f1"] < 1e-3  # bin edges are a subset of the thresholds


def test_ois_averages_each_images_best_over_images_holding_the_class():
    pool = PrPool()
    results = [{"id": "a", "pr": _hist(np.array([0.9, 0.1]), np.array([1, 0]))[None]},
               {"id": "b", "pr": _hist(np.array([0.6, 0.7]), np.array([1, 0]))[None]},
               {"id": "c", "pr": _hist(np.array([0.2]), np.array([0]))[None]}]  # no class 1
    kept = list(pool.take(results))
    assert all("pr" not in r for r in kept)  # dropped once pooled: memory stays flat
    got = pool.summary(["a", "b", "c"], range(1, 2), ["raw", "crf"])
    one = got["methods"]["raw"]["classes"]["1"]
    # a: best F1 1; b: the true pixel scores under the false one, best at threshold 0.6 with
    # P 1/2, R 1: F1 2/3. OIS = (1 + 2/3) / 2; c holds no true pixel and is left out
    assert one["ois_f1"] == pytest.approx((1 + 2 / 3) / 2) and one["ois_images"] == 2
    # pooled: 0.9 (T), 0.7 (F), 0.6 (T), 0.2 (F), 0.1 (F): AP = 1/2 + 1/2 x 2/3
    assert one["ap"] == pytest.approx(5 / 6)
    assert got["methods"]["crf"] == NO_PROBS and got["bins"] == BINS


def _setup(tmp_path, truths: dict[str, np.ndarray], probs: dict[str, np.ndarray]):
    """Ground truth (0/255), raw masks (argmax), and probabilities (C, H, W) per id."""
    for d in ("gt", "pred/masks"):
        (tmp_path / d).mkdir(parents=True)
    for i, t in truths.items():
        Image.fromarray(t).save(tmp_path / "gt" / f"{i}.png")
        Image.fromarray((probs[i].argmax(0) * 255).astype(np.uint8)).save(
            tmp_path / "pred/masks" / f"{i}.png")
        write_probs(probs_path(tmp_path / "pred", i), probs[i])
    write_json(tmp_path / "manifest.json", {"pairs": [
        {"id": i, "image": "", "mask": str(tmp_path / "gt" / f"{i}.png")} for i in truths]})
    write_json(tmp_path / "meta.json", {"class_values": [0, 255],
                                        "splits": {"test": {"ids": list(truths)}}})


def _run(tmp_path, **kw) -> dict:
    return evaluate_masks(tmp_path / "manifest.json", tmp_path / "meta.json",
                          {"raw": tmp_path / "pred/masks"}, tmp_path / "rows.csv",
                          tmp_path / "s.json", **kw)


def test_evaluate_masks_writes_the_raw_probabilities_scores(tmp_path):
    truth = np.zeros((8, 8), np.uint8)
    truth[2:6, 2:6] = 255
    fg = np.where(truth > 0, 0.8, 0.3).astype(np.float32)
    fg[0, 0] = 0.9  # one confident false positive: AP under 1, MaxF under 1
    _setup(tmp_path, {"a": truth}, {"a": np.stack([1 - fg, fg])})
    got = _run(tmp_path, probs_dir=tmp_path / "pred")["pr_curve"]["methods"]["raw"]["classes"]
    # 16 true px at 0.8 under one false at 0.9: AP = 16/17, MaxF at 0.8: 2 x 16 / (17 + 16)
    assert got["1"]["ap"] == pytest.approx(16 / 17, abs=1e-9)
    assert got["1"]["max_f1"] == pytest.approx(32 / 33)
    assert got["1"]["positive_px"] == 16 and got["1"]["negative_px"] == 48
    assert read_json(tmp_path / "s.json")["pr_curve"]["bins"] == BINS
    assert "pr_curve" not in _run(tmp_path)  # unset: nothing computed


def test_probabilities_of_another_size_are_refused_naming_the_file(tmp_path):
    truth = np.zeros((8, 8), np.uint8)
    probs = np.full((2, 8, 8), 0.5, np.float32)
    _setup(tmp_path, {"a": truth}, {"a": probs})
    write_probs(probs_path(tmp_path / "pred", "a"), np.full((2, 8, 6), 0.5))
    with pytest.raises(ValueError, match=r"a\.npy.*\(2, 8, 6\).*forcerun predict_masks"):
        _run(tmp_path, probs_dir=tmp_path / "pred")


def test_the_rule_names_the_definitions():
    assert "average_precision_score" in pr_curve.PR_RULE and f"{BINS} bins" in pr_curve.PR_RULE


def test_the_report_draws_the_curve_from_summary_json(tmp_path):
    truth = np.zeros((8, 8), np.uint8)
    truth[2:6, 2:6] = 255
    fg = np.where(truth > 0, 0.8, 0.3).astype(np.float32)
    _setup(tmp_path, {"a": truth}, {"a": np.stack([1 - fg, fg])})
    _run(tmp_path, probs_dir=tmp_path / "pred")
    summary = read_json(tmp_path / "s.json")
    assert _label(summary, "1", summary["pr_curve"]["methods"]["raw"]["classes"]["1"]) == (
        "class 255: AP 1.000, MaxF 1.000 at 0.799")  # 0.8 as float16 is 0.7998
    plot_pr_curve(summary, tmp_path / "pr.png")
    assert Image.open(tmp_path / "pr.png").size[0] > 100
