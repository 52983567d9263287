"""Relaxed precision and recall (Mnih & Hinton 2010): thin structures scored with a slack of px."""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage

log = logging.getLogger(__name__)
# Copied into summary.json's `relaxed`, so a reader knows what the shares count.
RELAXED_RULE: str = (
    "relaxed precision: the share of predicted pixels of a class within slack_px (Euclidean, "
    "<=) of a ground-truth pixel of the class; relaxed recall: the share of ground-truth pixels "
    "within slack_px of a predicted one; f1 their harmonic mean (0 where both are 0). Pixels "
    "are counted per image and summed over the test set before dividing (not a mean of "
    "per-image ratios); foreground sums the scored classes' counts. Ignored, outside-roi and "
    "no-data pixels count in neither mask. A share of no pixels is 1.0 (nothing predicted: "
    "none is off; nothing true: none is missed), so an empty prediction of a present class "
    "scores precision 1, recall 0, f1 0. slack_px 0 gives the plain pixel precision and recall"
)
BAND = 512  # rows a distance transform covers at a time: memory bounded on large scenes
COUNTS = ("predicted_px", "predicted_near_px", "true_px", "true_near_px")


def _near(points: np.ndarray, to: np.ndarray, slack: float) -> int:
    """How many pixels of `points` (H, W bool) lie within `slack` px of a pixel of `to`. A
    point's nearest pixel within slack lies within ceil(slack) rows and columns of it, so the
    transform runs on bands of rows cut to the points' columns, that margin added."""
    if not points.any() or not to.any():
        return 0
    reach = int(np.ceil(slack))
    rows, cols = np.flatnonzero(points.any(axis=1)), np.flatnonzero(points.any(axis=0))
    x0, x1 = max(cols[0] - reach, 0), min(cols[-1] + 1 + reach, to.shape[1])
    count = 0
    for y0 in range(rows[0], rows[-1] + 1, BAND):
        y1 = min(y0 + BAND, rows[-1] + 1)
        lo, hi = max(y0 - reach, 0), min(y1 + reach, to.shape[0])
        near = to[lo:hi, x0:x1]
        if not near.any():
            continue
        dist = ndimage.distance_transform_edt(~near)  # (hi - lo, x1 - x0) px to `to`
        count += int((points[y0:y1, x0:x1] & (dist[y0 - lo:y1 - lo] <= slack)).sum())
    return count


def relaxed_counts(pred: np.ndarray, target: np.ndarray, classes: range, ignore_index: int,
                   slack: float) -> np.ndarray:
    """(C, 4) int64 with C = classes.stop: for each class of `classes`, COUNTS (predicted px,
    those within `slack` px of a true one, true px, those within `slack` of a predicted one);
    pixels where `target` holds ignore_index count in neither mask; other classes' rows 0."""
    if target.ndim != 2 or pred.shape != target.shape:
        # _near's bands are rows and columns: a volume's counts would come out wrong, silently
        raise ValueError(f"relaxed precision takes (H, W) masks, not {pred.shape} against "
                         f"{target.shape}: score a volume per slice (evaluate.relaxed_slack is "
                         "in-plane)")
    scored = target != ignore_index  # (H, W)
    out = np.zeros((classes.stop, len(COUNTS)), np.int64)
    for c in classes:
        p, t = (pred == c) & scored, target == c
        out[c] = p.sum(), _near(p, t, slack), t.sum(), _near(t, p, slack)
    return out


def relaxed_scores(counts: np.ndarray) -> dict[str, float]:
    """Relaxed precision, recall and F1 of one class's COUNTS (summed or an image's): a share
    of no pixels is 1.0 (RELAXED_RULE)."""
    p, p_near, t, t_near = (int(v) for v in counts)
    precision = p_near / p if p else 1.0
    recall = t_near / t if t else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def relaxed_summary(results: list[dict], methods: list[str], first: int, slack: float) -> dict:
    """summary.json's `relaxed`: per method and scored class (`first` and up) the counts summed
    over the images and the shares they give, and `foreground`, every scored class's summed."""
    out: dict = {"slack_px": slack, "rule": RELAXED_RULE, "methods": {}}
    for m in methods:
        total = sum(r["scores"][m]["relaxed"] for r in results)  # (C, 4)
        classes = {str(c): {**relaxed_scores(total[c]), **dict(zip(COUNTS, map(int, total[c]),
                                                                    strict=True))}
                   for c in range(first, len(total))}
        fg = relaxed_scores(total[first:].sum(axis=0))
        out["methods"][m] = {"foreground": fg, "classes": classes}
        log.info("%s: relaxed precision %.4f, recall %.4f, F1 %.4f (slack %g px, foreground "
                 "pixels summed over %d images)", m, fg["precision"], fg["recall"], fg["f1"],
                 slack, len(results))
    return out
