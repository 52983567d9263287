"""evaluate.pr_curve: threshold-free scores of the raw probabilities (MaxF/ODS, AP, OIS and the
precision-recall curve), from histograms of each scored class's probability pooled over the
test set, so memory stays the same whatever the number of images."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

import numpy as np

from unet.common.labels import IGNORE_INDEX, MaskMapping
from unet.common.probs import RERUN_PREDICTION, read_probs

log = logging.getLogger(__name__)
BINS = 1000  # bin i holds probabilities in [i/BINS, (i+1)/BINS); 1.0 falls in the last
ROWS = 256  # rows of a memory-mapped probability file read at a time
# Copied into summary.json's `pr_curve`, so a reader knows what each figure is.
PR_RULE: str = (
    "one-vs-rest on each scored class's predicted probability (raw masks' network output), "
    f"pixels counted in {BINS} bins of width 1/{BINS} and summed over the test set; a pixel "
    "is predicted positive at threshold t where its probability >= t, t one of the bin edges "
    f"0, 1/{BINS}, ..., {BINS - 1}/{BINS} (precision, recall and threshold list them, high "
    "recall first). max_f1 (ODS, KITTI's MaxF): the best F1 of the pooled counts over those "
    "thresholds, at max_f1_threshold (the highest of a tie). ap: the step-wise sum over "
    "thresholds of (recall - previous recall) x precision, as sklearn's "
    "average_precision_score (no interpolation), pixels of one bin taken as tied. ois_f1: "
    "the mean over test images whose ground truth holds the class (ois_images) of each "
    "image's own best F1. Ignored, outside-roi and no-data pixels count in no bin. null "
    "where no test pixel holds the class"
)
NO_PROBS: str = ("no probabilities: these masks are labels (the CRF's MAP labels, the final "
                 "choice's), so no threshold can be swept; their scores are under methods")


def image_histograms(probs: np.ndarray, target: np.ndarray, classes: range, ignore_index: int,
                     rows: int = ROWS) -> np.ndarray:
    """(len(classes), 2, BINS) int64: per class of `classes`, the counts per probability bin of
    the pixels whose `target` (H, W) is that class ([0]) and of the other scored pixels ([1]);
    `probs` (C, H, W), e.g. memory-mapped, read `rows` rows at a time; pixels where `target` is
    ignore_index or the probability is not finite (no-data's NaN) are left out."""
    out = np.zeros((len(classes), 2, BINS), np.int64)
    for y in range(0, target.shape[0], rows):
        t = target[y : y + rows]  # (rows, W)
        block = np.asarray(probs[classes.start : classes.stop, y : y + rows], np.float32)
        for k, p in enumerate(block):  # p (rows, W), the class's probability
            keep = (t != ignore_index) & np.isfinite(p)
            bins = np.clip((p[keep] * BINS).astype(np.int64), 0, BINS - 1)
            positive = t[keep] == classes.start + k
            out[k, 0] += np.bincount(bins[positive], minlength=BINS)
            out[k, 1] += np.bincount(bins[~positive], minlength=BINS)
    return out


def read_histograms(path: str, target: np.ndarray, mapping: MaskMapping) -> np.ndarray:
    """image_histograms of predict_masks' probability file `path` for this (H, W) target, over
    the mapping's scored classes; an error naming the file where its classes or size differ."""
    probs = read_probs(path)  # (C, H, W) float16, memory-mapped
    num_classes = mapping.num_classes
    if probs.shape != (num_classes, *target.shape):
        raise ValueError(
            f"probabilities {path} are {probs.shape} (classes, height, width), their ground "
            f"truth needs ({num_classes}, {target.shape[0]}, {target.shape[1]}); "
            f"{RERUN_PREDICTION}")
    return image_histograms(probs, target, range(mapping.scored_from, num_classes), IGNORE_INDEX)


def curve(hist: np.ndarray) -> dict[str, np.ndarray]:
    """From one class's (2, BINS) counts: per threshold edge i/BINS (high recall first) the
    true and false positives at probability >= it, and the true pixels (a scalar)."""
    tp = np.cumsum(hist[0][::-1])[::-1]  # (BINS,) positives at bin >= i
    fp = np.cumsum(hist[1][::-1])[::-1]
    return {"tp": tp, "fp": fp, "positive": tp[0], "threshold": np.arange(BINS) / BINS}


def best_f1(hist: np.ndarray) -> tuple[float | None, float | None]:
    """(best F1 over the thresholds, its threshold) of one class's (2, BINS) counts; (None,
    None) where no pixel holds the class (every F1 0/0)."""
    c = curve(hist)
    if not c["positive"]:
        return None, None
    f1 = 2 * c["tp"] / (c["tp"] + c["fp"] + c["positive"])  # 2PR/(P+R) in counts
    # the highest threshold of a tie: empty bins under a score repeat its counts, and that
    # edge is the score's own (sklearn's thresholds are the scores)
    i = BINS - 1 - int(np.argmax(f1[::-1]))
    return float(f1[i]), float(c["threshold"][i])


def average_precision(hist: np.ndarray) -> float | None:
    """AP of one class's (2, BINS) counts: sum over the bins holding true pixels, from the
    highest probability down, of (their share of the true pixels) x (precision at that bin's
    edge): sklearn's step-wise sum, a bin's pixels tied. None where no pixel holds the class."""
    c = curve(hist)
    if not c["positive"]:
        return None
    hit = hist[0] > 0  # recall rises only at these thresholds
    precision = c["tp"][hit] / (c["tp"][hit] + c["fp"][hit])
    return float(np.sum(hist[0][hit] / c["positive"] * precision))


class PrPool:
    """The test set's pooled histograms and each image's best F1, taken from score_image's
    results as they stream in (each image's histograms dropped once added)."""

    def __init__(self) -> None:
        self.hist: np.ndarray | None = None  # (K, 2, BINS) summed over images
        self.best: dict[str, list[float | None]] = {}  # image id -> best F1 per class

    def take(self, results: Iterable[dict]) -> Iterator[dict]:
        """Each result as it comes, its `pr` histograms pooled and removed."""
        for r in results:
            hist = r.pop("pr", None)
            if hist is not None:
                self.hist = hist if self.hist is None else self.hist + hist
                self.best[r["id"]] = [best_f1(h)[0] for h in hist]
            yield r

    def summary(self, ids: list[str], classes: range, methods: list[str]) -> dict:
        """summary.json's `pr_curve` over the scored images `ids` (an all-ignored image adds
        no pixel): per scored class, raw's figures and curve; other methods say why none."""
        hist = self.hist if self.hist is not None else np.zeros((len(classes), 2, BINS), int)
        out = {}
        for k, c in enumerate(classes):
            out[str(c)] = class_scores(hist[k], [self.best[i][k] for i in ids if i in self.best])
            if out[str(c)]["max_f1"] is not None:
                log.info("raw, class %d: MaxF %.4f at %.3f, AP %.4f, OIS F1 %s (%d images)", c,
                         out[str(c)]["max_f1"], out[str(c)]["max_f1_threshold"],
                         out[str(c)]["ap"], out[str(c)]["ois_f1"], out[str(c)]["ois_images"])
        return {"bins": BINS, "rule": PR_RULE, "methods": {
            m: {"classes": out} if m == "raw" else NO_PROBS for m in methods}}


def class_scores(hist: np.ndarray, image_best: list[float | None]) -> dict:
    """One class's figures from its pooled (2, BINS) counts and each image's best F1 (None:
    the image's ground truth lacks it, left out of OIS)."""
    c = curve(hist)
    f1, at = best_f1(hist)
    held = [b for b in image_best if b is not None]
    made = c["tp"] + c["fp"]
    # no pixel at or above a threshold: precision 1, as sklearn's curve ends
    precision = np.where(made > 0, c["tp"] / np.maximum(made, 1), 1.0)
    recall = c["tp"] / c["positive"] if c["positive"] else np.zeros(BINS)
    return {"max_f1": f1, "max_f1_threshold": at, "ap": average_precision(hist),
            "ois_f1": float(np.mean(held)) if held else None, "ois_images": len(held),
            "positive_px": int(c["positive"]), "negative_px": int(c["fp"][0]),
            "threshold": c["threshold"].round(6).tolist(),
            "precision": precision.round(6).tolist(), "recall": recall.round(6).tolist()}
